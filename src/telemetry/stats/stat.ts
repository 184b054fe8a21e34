// One Envoy stat: its flat name (`cluster.X.upstream_rq_total`) and its Prometheus form, fixed at creation.

import { escapeLabelValue } from '../metrics/exposition.js';

export type StatKind = 'counter' | 'gauge';

/** A counter or gauge; `used` mirrors Envoy's "used" bit for `?usedonly`. */
export class Stat {
  readonly name: string;
  readonly kind: StatKind;
  /** `envoy_cluster_upstream_rq_total` */
  readonly promName: string;
  /** `{envoy_cluster_name="..."}` or empty. */
  readonly promLabels: string;
  value = 0;
  used = false;

  constructor(opts: { name: string; kind: StatKind; promName: string; promTags: [string, string][] }) {
    this.name = opts.name;
    this.kind = opts.kind;
    this.promName = opts.promName;
    this.promLabels =
      opts.promTags.length === 0
        ? ''
        : `{${opts.promTags.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
  }

  inc(n = 1): void {
    this.value += n;
    this.used = true;
  }

  dec(n = 1): void {
    this.value -= n;
    this.used = true;
  }

  set(v: number): void {
    this.value = v;
    this.used = true;
  }
}

/** Envoy's Prometheus name: `envoy_` + the tag-stripped name with every non [a-zA-Z0-9_] turned into `_`. */
export function envoyPromName(strippedName: string): string {
  return `envoy_${strippedName.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

/**
 * Envoy's response-code tag extractors: `..._rq_503` becomes `..._rq{envoy_response_code="503"}` and
 * `..._rq_5xx` becomes `..._rq_xx{envoy_response_code_class="5"}`.
 */
export function extractResponseCodeTag(suffix: string): { suffix: string; tag?: [string, string] } {
  const code = /^(.*_rq)_(\d{3})$/.exec(suffix);
  if (code) return { suffix: code[1]!, tag: ['envoy_response_code', code[2]!] };
  const cls = /^(.*_rq)_(\d)xx$/.exec(suffix);
  if (cls) return { suffix: `${cls[1]!}_xx`, tag: ['envoy_response_code_class', cls[2]!] };
  return { suffix };
}

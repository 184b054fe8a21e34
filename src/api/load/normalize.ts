// Turns one YAML document into Resource envelopes: kinds, served versions, List items, ConfigMap data, defaults.

import { type ConfigMessage, type FieldPath, formatPath, ValidationCode } from '../messages.js';
import { describeValue, isPlainObject } from '../schema/schema.js';
import { didYouMean } from '../schema/suggest.js';
import { KINDS, kindInfo } from '../types/index.js';
import { DEFAULT_NAMESPACE, type Resource, type ResourceRef, type SourcePosition } from '../types/meta.js';
import type { LoadedResource, PositionOptions } from './loaded-resource.js';
import { dropNullFields } from './nulls.js';

/** Top-level fields each kind may have besides apiVersion, kind, metadata and spec. */
const EXTRA_TOP_LEVEL: Record<string, readonly string[]> = { ConfigMap: ['data'] };

/** Accepted for compatibility with `kubectl get -o yaml`, and ignored. */
const IGNORED_TOP_LEVEL: Record<string, readonly string[]> = {
  ConfigMap: ['binaryData', 'immutable'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
};

const IGNORED_METADATA = [
  'managedFields',
  'ownerReferences',
  'finalizers',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generateName',
];

export interface DocumentInput {
  value: unknown;
  file: string;
  start: SourcePosition;
  /** Position of a path inside the document (not inside the resource). */
  positionOf(path: FieldPath, opts?: PositionOptions): SourcePosition;
}

interface Output {
  resources: LoadedResource[];
  messages: ConfigMessage[];
}

function served(kind: string): string {
  const info = kindInfo(kind)!;
  return info.versions.map((v) => (info.group ? `${info.group}/${v}` : v)).join(', ');
}

function normalizeOne(
  doc: DocumentInput,
  prefix: FieldPath,
  raw: Record<string, unknown>,
  out: Output,
): void {
  const at = (path: FieldPath, opts?: PositionOptions) => doc.positionOf([...prefix, ...path], opts);
  let ref: ResourceRef | undefined;
  const problem = (
    path: FieldPath,
    code: string,
    message: string,
    severity: 'error' | 'warning' = 'error',
    atKey = false,
  ) =>
    out.messages.push({
      severity,
      code,
      message,
      position: at(path, { atKey }),
      ...(ref ? { resource: ref } : {}),
      ...(path.length ? { path: formatPath(path) } : {}),
    });

  const kind = raw.kind;
  const apiVersion = raw.apiVersion;
  if (typeof kind !== 'string' || kind === '') {
    problem(
      [],
      ValidationCode.MissingField,
      `not a resource: "kind" is missing (got ${Object.keys(raw).slice(0, 4).join(', ') || 'an empty map'})`,
    );
    return;
  }
  if (kind === 'List' && (apiVersion === 'v1' || apiVersion === undefined)) {
    if (!Array.isArray(raw.items)) {
      problem(
        ['items'],
        ValidationCode.WrongType,
        `a List needs items: a list of resources, got ${describeValue(raw.items)}`,
      );
      return;
    }
    raw.items.forEach((item, i) => {
      if (!isPlainObject(item)) {
        problem(
          ['items', i],
          ValidationCode.NotAnObject,
          `List items must be resources, got ${describeValue(item)}`,
        );
      } else normalizeOne(doc, [...prefix, 'items', i], item, out);
    });
    return;
  }
  const info = kindInfo(kind);
  if (!info) {
    problem(
      [],
      ValidationCode.UnknownKind,
      `unknown kind "${kind}"${didYouMean(kind, Object.keys(KINDS))} (Trellis reads ${Object.keys(KINDS).join(', ')})`,
    );
    return;
  }
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    problem([], ValidationCode.MissingField, `${kind}: "apiVersion" is missing; use ${served(kind)}`);
    return;
  }
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (group !== info.group || !info.versions.includes(version)) {
    problem(
      [],
      ValidationCode.UnservedVersion,
      `${kind}: apiVersion "${apiVersion}" is not served for ${kind}; use one of ${served(kind)}`,
    );
    return;
  }

  const meta = isPlainObject(raw.metadata) ? raw.metadata : {};
  const name = typeof meta.name === 'string' && meta.name ? meta.name : '(unnamed)';
  const namespace =
    typeof meta.namespace === 'string' && meta.namespace
      ? meta.namespace
      : info.namespaced
        ? DEFAULT_NAMESPACE
        : '';
  ref = { kind, namespace, name };
  const allowed = new Set([
    'apiVersion',
    'kind',
    'metadata',
    'spec',
    'status',
    ...(EXTRA_TOP_LEVEL[kind] ?? []),
  ]);
  const ignored = new Set(IGNORED_TOP_LEVEL[kind] ?? []);
  for (const key of Object.keys(raw)) {
    if (ignored.has(key))
      problem(
        [key],
        ValidationCode.Ignored,
        `"${key}" is a Kubernetes field that Trellis ignores`,
        'warning',
        true,
      );
    else if (!allowed.has(key)) {
      problem(
        [key],
        ValidationCode.UnknownField,
        `unknown field "${key}"${didYouMean(key, allowed)}`,
        'error',
        true,
      );
    }
  }
  if (kind === 'ConfigMap' && raw.spec !== undefined) {
    problem(
      ['spec'],
      ValidationCode.UnknownField,
      'a ConfigMap has no spec: put keys under "data"',
      'error',
      true,
    );
  }

  const metadata: Record<string, unknown> = isPlainObject(raw.metadata) ? { ...raw.metadata } : {};
  if (raw.metadata !== undefined && !isPlainObject(raw.metadata)) {
    problem(
      ['metadata'],
      ValidationCode.WrongType,
      `metadata must be an object, got ${describeValue(raw.metadata)}`,
    );
    return;
  }
  for (const key of IGNORED_METADATA) {
    if (key in metadata) {
      problem(
        ['metadata', key],
        ValidationCode.Ignored,
        `"metadata.${key}" is a Kubernetes field that Trellis ignores`,
        'warning',
        true,
      );
      delete metadata[key];
    }
  }
  if (info.namespaced) metadata.namespace ??= DEFAULT_NAMESPACE;
  else if (metadata.namespace !== undefined) {
    problem(
      ['metadata', 'namespace'],
      ValidationCode.Ignored,
      `${kind} is not namespaced; metadata.namespace is ignored`,
      'warning',
      true,
    );
    delete metadata.namespace;
  }

  let spec: unknown;
  let specPath: (path: FieldPath) => FieldPath = (p) => p;
  if (kind === 'ConfigMap') {
    spec = raw.data === undefined ? {} : { data: raw.data };
    // ConfigMap data lives at the top level of the file but under spec in Trellis.
    specPath = (p) => (p[0] === 'spec' && p[1] === 'data' ? p.slice(1) : p);
  } else if (kind === 'Namespace' || kind === 'ServiceAccount') {
    spec = raw.spec ?? {};
    if (isPlainObject(spec) && 'finalizers' in spec) {
      problem(
        ['spec', 'finalizers'],
        ValidationCode.Ignored,
        '"spec.finalizers" is a Kubernetes field that Trellis ignores',
        'warning',
        true,
      );
      const { finalizers: _f, ...rest } = spec;
      spec = rest;
    }
  } else {
    spec = raw.spec ?? {};
  }

  const noValue = (path: FieldPath) =>
    problem(
      path,
      ValidationCode.Ignored,
      `"${path[path.length - 1]}" has no value; it is treated as absent`,
      'warning',
      true,
    );
  const resource = {
    apiVersion,
    kind,
    metadata: dropNullFields(metadata, (p) => noValue(['metadata', ...p])),
    spec: dropNullFields(spec, (p) => noValue(specPath(['spec', ...p]))),
  } as unknown as Resource;
  const source = at([]);
  out.resources.push({ resource, source, positionOf: (path, opts) => at(specPath(path), opts) });
}

/** Reads the resources of one parsed document; problems with the envelope become messages. */
export function normalizeDocument(doc: DocumentInput): Output {
  const out: Output = { resources: [], messages: [] };
  if (doc.value === null || doc.value === undefined) return out;
  if (!isPlainObject(doc.value)) {
    out.messages.push({
      severity: 'error',
      code: ValidationCode.NotAnObject,
      message: `a YAML document must be a Kubernetes resource (a map with apiVersion, kind, metadata), got ${describeValue(doc.value)}`,
      position: doc.start,
    });
    return out;
  }
  normalizeOne(doc, [], doc.value, out);
  return out;
}

// IST0130 / IST0131: route rules that can never match because an earlier rule in the same VirtualService
// catches their traffic (a catch-all first, identical matches, a shorter prefix before a longer one).

import type { ConfigMessage } from '../../messages.js';
import type { HTTPMatchRequest, VirtualService } from '../../types/index.js';
import { CODES } from '../codes.js';
import { type AnalysisIndex, message } from '../input-index.js';
import { matchCovers, sameMatch } from './match-cover.js';

function describeMatch(m: HTTPMatchRequest): string {
  const parts: string[] = [];
  if (m.uri)
    parts.push(
      `uri ${Object.entries(m.uri)
        .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
        .join('')}`,
    );
  for (const [h, v] of Object.entries(m.headers ?? {}))
    parts.push(
      `header ${h}${
        Object.keys(v).length
          ? ` ${Object.entries(v)
              .map(([k, x]) => `${k} ${JSON.stringify(x)}`)
              .join('')}`
          : ' present'
      }`,
    );
  if (m.method) parts.push(`method ${Object.values(m.method)[0]}`);
  if (m.port !== undefined) parts.push(`port ${m.port}`);
  return parts.join(', ') || 'everything';
}

const ruleName = (r: { name?: string }, i: number) => (r.name ? `#${i} (${r.name})` : `#${i}`);

export function unreachableRuleAnalyzer(index: AnalysisIndex): ConfigMessage[] {
  const out: ConfigMessage[] = [];
  for (const vs of index.ofKind<VirtualService>('VirtualService')) {
    const http = vs.resource.spec.http ?? [];
    // Each earlier match block, with the rule it belongs to; a rule without matches is a catch-all.
    const earlier: { rule: number; match?: HTTPMatchRequest }[] = [];
    http.forEach((route, i) => {
      const catchAll = earlier.find((e) => e.match === undefined);
      if (catchAll) {
        out.push(
          message(
            vs,
            CODES.VirtualServiceUnreachableRule,
            ['spec', 'http', i],
            `VirtualService rule ${ruleName(route, i)} not used (rule ${ruleName(http[catchAll.rule]!, catchAll.rule)} has no match and catches every request first).`,
            `move rule ${ruleName(http[catchAll.rule]!, catchAll.rule)} to the end, or give it a match`,
          ),
        );
      } else if (route.match?.length) {
        const covering = route.match.map((m) => earlier.find((e) => e.match && matchCovers(e.match, m)));
        if (covering.every((c) => c !== undefined)) {
          const by = covering[0]!;
          const same = sameMatch(by.match!, route.match[0]!);
          out.push(
            message(
              vs,
              CODES.VirtualServiceUnreachableRule,
              ['spec', 'http', i],
              `VirtualService rule ${ruleName(route, i)} not used (${same ? 'same match as' : 'its matches are covered by'} rule ${ruleName(http[by.rule]!, by.rule)}: ${describeMatch(by.match!)}).`,
              same
                ? 'remove the duplicate rule, or change its match'
                : `move rule ${ruleName(route, i)} before rule ${ruleName(http[by.rule]!, by.rule)} (more specific matches first)`,
            ),
          );
        } else {
          covering.forEach((c, j) => {
            if (!c) return;
            out.push(
              message(
                vs,
                CODES.VirtualServiceIneffectiveMatch,
                ['spec', 'http', i, 'match', j],
                `VirtualService rule ${ruleName(route, i)} match #${j} is not used (duplicate/overlapping match in rule ${ruleName(http[c.rule]!, c.rule)}).`,
                'remove this match block, or move the rule earlier',
              ),
            );
          });
        }
      }
      if (!route.match?.length) earlier.push({ rule: i });
      else for (const m of route.match) earlier.push({ rule: i, match: m });
    });
    const tcp = vs.resource.spec.tcp ?? [];
    const tcpCatchAll = tcp.findIndex((r) => !r.match?.length);
    if (tcpCatchAll >= 0 && tcpCatchAll < tcp.length - 1) {
      out.push(
        message(
          vs,
          CODES.VirtualServiceUnreachableRule,
          ['spec', 'tcp', tcpCatchAll + 1],
          `VirtualService tcp rule #${tcpCatchAll + 1} not used (tcp rule #${tcpCatchAll} has no match and catches every connection first).`,
          `move tcp rule #${tcpCatchAll} to the end`,
        ),
      );
    }
  }
  return out;
}

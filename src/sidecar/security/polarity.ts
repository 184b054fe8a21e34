// Which way an ambiguous attribute must fall so that ambiguity can only ever deny, never allow.

/**
 * `deny` when a match leads towards refusal (a DENY policy, the trigger of a CUSTOM check, an audit), `allow`
 * when a match leads towards acceptance (an ALLOW policy). A `not` flips it.
 *
 * It decides two ambiguous cases. A repeated header (`x-token: guest` then `x-token: admin`) is read as the
 * comma-joined value (Envoy) and as each single value (what an application may read): under `deny` any reading
 * that matches counts, under `allow` all of them must. An attribute a connection does not have (a header on
 * TCP) matches under `deny` and fails under `allow`, as Istio's translation treats HTTP-only DENY rules on TCP.
 */
export type Polarity = 'deny' | 'allow';

export function flip(p: Polarity): Polarity {
  return p === 'deny' ? 'allow' : 'deny';
}

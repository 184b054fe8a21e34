// Analyzers over small, realistic inputs: what each reports (code, path, message, fix) and what it must not.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadText } from '../load/load.js';
import type { ConfigMessage } from '../messages.js';
import { validateResources } from '../validate/validate.js';
import { analyze, formatAnalysisMessage } from './analyze.js';

/** A small Bookinfo: reviews v1-v3, ratings v1, details v1, as Kubernetes would run them. */
const PLATFORM = `
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{port: 9080, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings}
spec:
  selector: {app: ratings}
  ports: [{port: 9080, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: details}
spec:
  selector: {app: details}
  ports: [{port: 9080, name: http}, {port: 9443, name: https}]
${['v1', 'v2', 'v3']
  .map(
    (v) => `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-${v}}
spec:
  selector: {matchLabels: {app: reviews, version: ${v}}}
  template:
    metadata: {labels: {app: reviews, version: ${v}}}
    spec:
      containers: [{name: reviews, image: reviews:${v}, ports: [{containerPort: 9080}]}]`,
  )
  .join('\n')}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ratings-v1}
spec:
  selector: {matchLabels: {app: ratings, version: v1}}
  template:
    metadata: {labels: {app: ratings, version: v1}}
    spec:
      containers: [{name: ratings, image: ratings:v1, ports: [{containerPort: 9080}]}]
`;

function run(yaml: string, withPlatform = true): ConfigMessage[] {
  const loaded = loadText(withPlatform ? `${PLATFORM}\n---\n${yaml}` : yaml, 'input.yaml');
  const problems = [...loaded.messages, ...validateResources(loaded.resources)].filter(
    (m) => m.severity === 'error',
  );
  assert.deepEqual(problems, [], 'the test input itself must be valid');
  return analyze(loaded.resources);
}

const codes = (ms: ConfigMessage[]) => ms.map((m) => m.code).sort();

test('a consistent Bookinfo configuration produces no message', () => {
  const messages = run(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}, {name: v3, labels: {version: v3}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
`);
  assert.deepEqual(messages, []);
});

test('a catch-all before other rules makes them unreachable (IST0130), with the rule and a fix', () => {
  const [m, ...rest] = run(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings}}]
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: ratings}}]
`);
  assert.deepEqual(rest, []);
  assert.equal(m!.code, 'IST0130');
  assert.equal(m!.severity, 'warning');
  assert.equal(m!.path, 'spec.http[1]');
  assert.equal(m!.position?.file, 'input.yaml');
  assert.match(m!.message, /rule #1 not used \(rule #0 has no match/);
  assert.match(m!.fix ?? '', /move rule #0 to the end/);
  assert.match(
    formatAnalysisMessage(m!),
    /^Warning \[IST0130\] \(VirtualService default\/ratings input\.yaml:\d+\) .* Fix: /,
  );
});

test('identical and overlapping prefix matches shadow later rules; a partial overlap is an ineffective match (IST0131)', () => {
  const messages = run(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shadow}
spec:
  hosts: [ratings]
  http:
  - name: api
    match: [{uri: {prefix: /api}}]
    route: [{destination: {host: ratings}}]
  - name: api-v2
    match: [{uri: {prefix: /api/v2}}]
    route: [{destination: {host: ratings}}]
  - name: same
    match: [{uri: {prefix: /api}}]
    route: [{destination: {host: ratings}}]
  - name: partly
    match: [{uri: {exact: /api/x}}, {uri: {exact: /other}}]
    route: [{destination: {host: ratings}}]
  - name: not-shadowed
    match: [{uri: {regex: "/api/.*"}, headers: {x-a: {exact: b}}}]
    route: [{destination: {host: ratings}}]
`);
  const byPath = Object.fromEntries(messages.map((m) => [m.path, m]));
  assert.equal(byPath['spec.http[1]']?.code, 'IST0130');
  assert.match(
    byPath['spec.http[1]']!.message,
    /rule #1 \(api-v2\) not used \(its matches are covered by rule #0 \(api\): uri prefix "\/api"\)/,
  );
  assert.match(byPath['spec.http[1]']!.fix!, /move rule #1 \(api-v2\) before rule #0 \(api\)/);
  assert.match(byPath['spec.http[2]']!.message, /same match as rule #0/);
  assert.equal(byPath['spec.http[3].match[0]']?.code, 'IST0131');
  assert.equal(messages.length, 3, messages.map(formatAnalysisMessage).join('\n'));
});

test('more specific matches are not shadowed by less specific later ones, nor by other headers', () => {
  const messages = run(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ordered}
spec:
  hosts: [ratings]
  http:
  - match: [{uri: {prefix: /api/v2}}]
    route: [{destination: {host: ratings}}]
  - match: [{uri: {prefix: /api}, headers: {x-user: {exact: a}}}]
    route: [{destination: {host: ratings}}]
  - match: [{uri: {prefix: /api}, headers: {x-user: {exact: b}}}]
    route: [{destination: {host: ratings}}]
  - match: [{uri: {prefix: /api}, ignoreUriCase: true}]
    route: [{destination: {host: ratings}}]
  - route: [{destination: {host: ratings}}]
`);
  assert.deepEqual(messages, []);
});

test('missing subsets are IST0101 errors whether the DestinationRule lacks the subset or does not exist', () => {
  const messages = run(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v4}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - route: [{destination: {host: ratings, subset: v1}}]
`);
  assert.deepEqual(codes(messages), ['IST0101', 'IST0101']);
  const reviews = messages.find((m) => m.resource?.name === 'reviews')!;
  assert.equal(reviews.severity, 'error');
  assert.equal(reviews.message, 'Referenced host+subset in destinationrule not found: "reviews+v4"');
  assert.equal(reviews.path, 'spec.http[0].route[0].destination.subset');
  assert.match(reviews.fix!, /add subset v4 to DestinationRule default\/reviews \(it has v1\)/);
  const ratings = messages.find((m) => m.resource?.name === 'ratings')!;
  assert.match(ratings.fix!, /create a DestinationRule for ratings with subset v1/);
});

test('unknown hosts, gateways and DestinationRule hosts are IST0101 when the input has the registry', () => {
  const messages = run(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: typo}
spec:
  hosts: [reviews]
  gateways: [missing-gateway, mesh]
  http:
  - route: [{destination: {host: reveiws}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: nothing}
spec:
  host: nothing
`);
  const texts = messages.map((m) => m.message).sort();
  assert.deepEqual(texts, [
    'Referenced gateway not found: "missing-gateway"',
    'Referenced host not found: "nothing"',
    'Referenced host not found: "reveiws"',
  ]);
});

test('without Kubernetes Services in the input, cluster hosts are not checked, and that is said once', () => {
  const messages = run(
    `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
`,
    false,
  );
  assert.deepEqual(codes(messages), ['TRL0003']);
});

test('two VirtualServices for one host bound to the mesh conflict (IST0109); bound to a gateway they merge', () => {
  const vs = (name: string, gateways: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}}
spec:
  hosts: [reviews]
  ${gateways}
  http:
  - route: [{destination: {host: reviews}}]`;
  const gw = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]`;
  const conflict = run([vs('a', ''), vs('b', 'gateways: [mesh]')].join('\n---\n'));
  assert.deepEqual(codes(conflict), ['IST0109', 'IST0109']);
  assert.match(
    conflict[0]!.message,
    /The VirtualServices default\/a,default\/b associated with mesh gateway define the same host reviews\.default\.svc\.cluster\.local/,
  );
  assert.deepEqual(run([gw, vs('a', 'gateways: [gw]'), vs('b', 'gateways: [gw]')].join('\n---\n')), []);
});

test('a subset whose labels select no workload is reported (IST0127) with the labels the workloads have', () => {
  const [m, ...rest] = run(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}, {name: v3, labels: {version: v3}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http: [{route: [{destination: {host: ratings, subset: v2}}]}]
`);
  assert.equal(rest.length, 1);
  assert.equal(rest[0]!.severity, 'info', 'a subset no route uses is only worth an info');
  assert.match(rest[0]!.message, /version=v3 .*; no route uses it yet/);
  assert.equal(m!.code, 'IST0127');
  assert.equal(m!.severity, 'warning');
  assert.equal(m!.path, 'spec.subsets[1].labels');
  assert.match(m!.message, /version=v2 \(subset v2 of ratings; its workloads have version=v1\)/);
});

test('PeerAuthentication on a port no selected workload exposes (TRL0001), pointing at the Service port mix-up', () => {
  const [m, ...rest] = run(`
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, name: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web, ports: [{containerPort: 8080}]}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  mtls: {mode: STRICT}
  portLevelMtls:
    80: {mode: DISABLE}
    8080: {mode: PERMISSIVE}
`);
  assert.deepEqual(rest, []);
  assert.equal(m!.code, 'TRL0001');
  assert.equal(m!.path, 'spec.portLevelMtls.80');
  assert.match(m!.message, /80 is a port of Service web; portLevelMtls takes the workload port, 8080/);
  assert.equal(m!.fix, 'use port 8080');
});

test('gateway ports the gateway workload does not expose (IST0104); Sidecars without selectors (IST0111)', () => {
  const messages = run(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  template:
    metadata: {labels: {istio: ingressgateway}}
    spec:
      containers: [{name: proxy, image: trellis, ports: [{containerPort: 8080}]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - {port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}
  - {port: {number: 9090, name: http-2, protocol: HTTP}, hosts: ["*"]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a}
spec: {egress: [{hosts: ["./*"]}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: b}
spec: {egress: [{hosts: ["istio-system/*"]}]}
`);
  assert.deepEqual(codes(messages), ['IST0104', 'IST0111', 'IST0111']);
  assert.match(
    messages.find((m) => m.code === 'IST0104')!.message,
    /pod selector istio=ingressgateway; port 9090/,
  );
});

test('routing to a multi-port service without a port is IST0112', () => {
  const messages = run(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: details}
spec:
  hosts: [details]
  http:
  - route: [{destination: {host: details}}]
`);
  assert.deepEqual(codes(messages), ['IST0112']);
  assert.match(messages[0]!.message, /exposes multiple ports \[9080 9443\]/);
});

test('a later definition of the same resource replaces the earlier one, and that is noted', () => {
  const vs = (subset: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews, subset: ${subset}}}]}]`;
  const dr = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}`;
  const messages = run([dr, vs('v9'), vs('v1')].join('\n---\n'));
  assert.deepEqual(codes(messages), ['TRL0002']);
});

test('delegates and extension providers named by policies must exist (IST0101)', () => {
  const messages = run(`
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    extensionProviders:
    - name: my-authz
      envoyExtAuthzGrpc: {service: authz.foo.svc.cluster.local, port: 9000}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ok}
spec: {action: CUSTOM, provider: {name: my-authz}, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: typo}
spec: {action: CUSTOM, provider: {name: my-authx}, rules: [{}]}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  tracing: [{providers: [{name: zipkin}]}]
  metrics: [{providers: [{name: prometheus}]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /reviews}}]
    delegate: {name: reviews-routes}
  - match: [{uri: {prefix: /ratings}}]
    delegate: {name: ratings-routes}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-routes}
spec:
  http: [{route: [{destination: {host: reviews}}]}]
`);
  assert.deepEqual(messages.map((m) => m.message).sort(), [
    'Referenced VirtualService not found: "default/ratings-routes"',
    'Referenced extension provider not found: "my-authx"',
    'Referenced extension provider not found: "zipkin"',
  ]);
});

test('EnvoyFilter operations that Envoy config generation ignores (IST0152-0154) and conflicting Gateways (IST0145)', () => {
  const messages = run(`
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: ops}
spec:
  configPatches:
  - {applyTo: CLUSTER, patch: {operation: REPLACE, value: {name: x}}}
  - {applyTo: HTTP_ROUTE, patch: {operation: ADD, value: {name: x}}}
  - {applyTo: ROUTE_CONFIGURATION, patch: {operation: REMOVE}}
  - {applyTo: HTTP_FILTER, patch: {operation: REMOVE}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: a}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*.example.com"]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: b}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [shop.example.com]}, {port: {number: 81, name: http2, protocol: HTTP}, hosts: ["*"]}]
`);
  const selectorInfos = messages.filter((m) => m.code === 'IST0101');
  assert.ok(
    selectorInfos.every((m) => m.severity === 'info' && /Referenced selector not found/.test(m.message)),
  );
  assert.deepEqual(codes(messages.filter((m) => m.code !== 'IST0101')), [
    'IST0145',
    'IST0145',
    'IST0152',
    'IST0153',
    'IST0154',
  ]);
  assert.match(
    messages.find((m) => m.code === 'IST0145')!.message,
    /Conflict with gateways default\/a, default\/b \(workload selector istio=ingressgateway, port 80, hosts \[\*\.example\.com\]\)/,
  );
});

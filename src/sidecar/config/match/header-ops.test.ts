// Header edits: append actions, empty values, removal order, and the order of config levels.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oneHostRoutes, request, routeTableFromJson } from '../testing/resources.js';
import { applyHeaderOps, headerOpsInOrder, type MutableHeaders } from './header-ops.js';
import { findRoute } from './route.js';
import { pickWeightedCluster } from './weighted.js';

class Headers implements MutableHeaders {
  readonly values = new Map<string, string[]>();
  constructor(init: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(init)) this.values.set(k, [v]);
  }
  has(name: string) {
    return this.values.has(name);
  }
  set(name: string, value: string) {
    this.values.set(name, [value]);
  }
  append(name: string, value: string) {
    this.values.set(name, [...(this.values.get(name) ?? []), value]);
  }
  delete(name: string) {
    this.values.delete(name);
  }
  get(name: string) {
    return this.values.get(name);
  }
}

const opt = (key: string, value: string, appendAction?: string, keepEmptyValue?: boolean) => ({
  header: { key, value },
  ...(appendAction ? { appendAction } : {}),
  ...(keepEmptyValue ? { keepEmptyValue } : {}),
});

test("each append_action does what Envoy's does; empty values are dropped unless kept; removal comes first", () => {
  const table = routeTableFromJson(
    oneHostRoutes([
      {
        match: { prefix: '/' },
        route: { cluster: 'c' },
        requestHeadersToRemove: ['x-drop', 'x-set'],
        requestHeadersToAdd: [
          opt('x-append', 'two'),
          opt('x-set', 'new', 'OVERWRITE_IF_EXISTS_OR_ADD'),
          opt('x-if-absent', 'ignored', 'ADD_IF_ABSENT'),
          opt('x-new', 'added', 'ADD_IF_ABSENT'),
          opt('x-only-existing', 'nope', 'OVERWRITE_IF_EXISTS'),
          opt('X-Upper', 'lowered'),
          opt('x-empty', ''),
          opt('x-kept-empty', '', undefined, true),
        ],
      },
    ]),
  );
  const route = table.virtualHosts[0]!.routes[0]!;
  const h = new Headers({ 'x-append': 'one', 'x-set': 'old', 'x-drop': 'bye', 'x-if-absent': 'kept' });
  applyHeaderOps(h, route.requestHeaders);
  assert.deepEqual(h.get('x-append'), ['one', 'two']);
  assert.deepEqual(h.get('x-set'), ['new']);
  assert.equal(h.get('x-drop'), undefined);
  assert.deepEqual(h.get('x-if-absent'), ['kept']);
  assert.deepEqual(h.get('x-new'), ['added']);
  assert.equal(h.get('x-only-existing'), undefined);
  assert.deepEqual(h.get('x-upper'), ['lowered']);
  assert.equal(h.get('x-empty'), undefined);
  assert.deepEqual(h.get('x-kept-empty'), ['']);
});

test('levels apply cluster, route, virtual host, route config: the least specific overwrite wins by default', () => {
  const table = routeTableFromJson({
    name: 'levels',
    requestHeadersToAdd: [opt('x-level', 'config', 'OVERWRITE_IF_EXISTS_OR_ADD')],
    virtualHosts: [
      {
        name: 'vh',
        domains: ['*'],
        requestHeadersToAdd: [opt('x-level', 'vhost', 'OVERWRITE_IF_EXISTS_OR_ADD'), opt('x-vh', 'yes')],
        routes: [
          {
            match: { prefix: '/' },
            route: {
              weightedClusters: {
                clusters: [{ name: 'v1', weight: 1, requestHeadersToAdd: [opt('x-cluster', 'v1')] }],
              },
            },
            requestHeadersToAdd: [opt('x-level', 'route', 'OVERWRITE_IF_EXISTS_OR_ADD')],
          },
        ],
      },
    ],
  });
  const vhost = table.findVirtualHost('any')!;
  const route = findRoute(vhost, request('/'))!;
  assert.equal(route.action.kind, 'route');
  const cluster = route.action.kind === 'route' ? pickWeightedCluster(route.action) : undefined;
  const h = new Headers();
  for (const ops of headerOpsInOrder('request', { table, vhost, route, ...(cluster ? { cluster } : {}) }))
    applyHeaderOps(h, ops);
  assert.deepEqual(h.get('x-level'), ['config']);
  assert.deepEqual(h.get('x-cluster'), ['v1']);
  assert.deepEqual(h.get('x-vh'), ['yes']);
});

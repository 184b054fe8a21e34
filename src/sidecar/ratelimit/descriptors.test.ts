import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { messageFromJson } from '../../xds/any.js';
import { RateLimitSchema } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import {
  generateDescriptors,
  maskAddress,
  queryParameterAction,
  rateLimitPolicyFromProto,
} from './descriptors.js';

const policy = (json: unknown[]) =>
  rateLimitPolicyFromProto(
    json.map((j) => messageFromJson(RateLimitSchema, j as never)),
    'route "api"',
  );

function request(headers: Record<string, string>, remoteAddress = '10.1.2.3') {
  return {
    header: (n: string) => headers[n],
    remoteAddress,
    sourceCluster: 'ratings.default',
    destinationCluster: 'outbound|9080||productpage.default.svc.cluster.local',
  };
}

describe("Istio's global rate limit task", () => {
  const vhost = policy([
    { actions: [{ request_headers: { header_name: ':path', descriptor_key: 'PATH' } }] },
  ]);
  const api = policy([
    {
      actions: [
        {
          header_value_match: {
            descriptor_key: 'PATH',
            descriptor_value: 'api',
            headers: [
              { name: ':path', safe_regex_match: { google_re2: {}, regex: '/api/v1/products/[1-9]{1,2}' } },
            ],
          },
        },
      ],
    },
  ]);

  test('the virtual host action sends the path', () => {
    assert.deepEqual(generateDescriptors(vhost, request({ ':path': '/productpage' })), [
      { entries: [{ key: 'PATH', value: '/productpage' }] },
    ]);
  });

  test('the api route sends PATH=api for product ids 1-99 only', () => {
    assert.deepEqual(generateDescriptors(api, request({ ':path': '/api/v1/products/7' })), [
      { entries: [{ key: 'PATH', value: 'api' }] },
    ]);
    assert.deepEqual(generateDescriptors(api, request({ ':path': '/api/v1/products/100' })), []);
  });
});

describe('actions', () => {
  test('every entry of a rate limit is needed; a missing header drops the descriptor', () => {
    const p = policy([
      {
        actions: [
          { generic_key: { descriptor_value: 'all' } },
          { request_headers: { header_name: 'x-user', descriptor_key: 'user' } },
        ],
      },
      { actions: [{ source_cluster: {} }, { destination_cluster: {} }, { remote_address: {} }] },
    ]);
    assert.deepEqual(generateDescriptors(p, request({})), [
      {
        entries: [
          { key: 'source_cluster', value: 'ratings.default' },
          { key: 'destination_cluster', value: 'outbound|9080||productpage.default.svc.cluster.local' },
          { key: 'remote_address', value: '10.1.2.3' },
        ],
      },
    ]);
    assert.deepEqual(generateDescriptors(p, request({ 'x-user': 'jason' }))[0], {
      entries: [
        { key: 'generic_key', value: 'all' },
        { key: 'user', value: 'jason' },
      ],
    });
  });

  test('skip_if_absent leaves the entry out but keeps the descriptor', () => {
    const p = policy([
      {
        actions: [
          { generic_key: { descriptor_value: 'x', descriptor_key: 'k' } },
          { request_headers: { header_name: 'x-user', descriptor_key: 'user', skip_if_absent: true } },
        ],
      },
    ]);
    assert.deepEqual(generateDescriptors(p, request({})), [{ entries: [{ key: 'k', value: 'x' }] }]);
  });

  test('header_value_match with expect_match false fires when the headers do not match', () => {
    const p = policy([
      {
        actions: [
          {
            header_value_match: {
              descriptor_value: 'anon',
              expect_match: false,
              headers: [{ name: 'authorization', present_match: true }],
            },
          },
        ],
      },
    ]);
    assert.deepEqual(generateDescriptors(p, request({})), [
      { entries: [{ key: 'header_match', value: 'anon' }] },
    ]);
    assert.deepEqual(generateDescriptors(p, request({ authorization: 'Bearer x' })), []);
  });

  test('masked_remote_address and query parameters', () => {
    const p = policy([
      { actions: [{ masked_remote_address: { v4_prefix_mask_len: 16 } }] },
      {
        actions: [
          {
            query_parameter_value_match: {
              descriptor_value: 'debug',
              query_parameters: [{ name: 'debug', string_match: { exact: '1' } }],
            },
          },
        ],
      },
    ]);
    assert.deepEqual(generateDescriptors(p, request({ ':path': '/x?debug=1' })), [
      { entries: [{ key: 'masked_remote_address', value: '10.1.0.0/16' }] },
      { entries: [{ key: 'query_match', value: 'debug' }] },
    ]);
    const q = [
      { stage: 0, actions: [queryParameterAction({ queryParameterName: 'user', descriptorKey: 'user' })] },
    ];
    assert.deepEqual(generateDescriptors(q, request({ ':path': '/a?user=ann&x=1' })), [
      { entries: [{ key: 'user', value: 'ann' }] },
    ]);
  });

  test('only the policies of the filter stage apply', () => {
    const p = policy([{ stage: 1, actions: [{ generic_key: { descriptor_value: 'late' } }] }]);
    assert.deepEqual(generateDescriptors(p, request({}), 0), []);
    assert.equal(generateDescriptors(p, request({}), 1).length, 1);
  });

  test('an unsupported action is refused with its path', () => {
    const rl = create(RateLimitSchema, {
      actions: [{ actionSpecifier: { case: 'metadata', value: { descriptorKey: 'k' } } }],
    });
    assert.throws(
      () => rateLimitPolicyFromProto([rl], 'route "r"'),
      /route "r".rate_limits\[0\].actions\[0\]: rate limit action "metadata" is not supported/,
    );
  });
});

test('addresses are masked as Envoy prints them', () => {
  assert.equal(maskAddress('192.168.1.1', 24, 128), '192.168.1.0/24');
  assert.equal(maskAddress('192.168.1.1', 32, 128), '192.168.1.1/32');
  assert.equal(maskAddress('2001:abcd:ef01:2345:6789:abcd:ef01:234', 32, 64), '2001:abcd:ef01:2345::/64');
  assert.equal(
    maskAddress('2001:abcd:ef01:2345:6789:abcd:ef01:234', 32, 128),
    '2001:abcd:ef01:2345:6789:abcd:ef01:234/128',
  );
  assert.equal(maskAddress('::ffff:10.0.0.1', 32, 96), '::ffff:0:0/96');
  assert.equal(maskAddress('not-an-ip', 32, 128), undefined);
});

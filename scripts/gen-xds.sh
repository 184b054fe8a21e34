#!/usr/bin/env bash
# Regenerates src/xds/gen from the Envoy API protos that @grpc/grpc-js-xds ships (dev only).
# The generated code is committed; run this only when the proto list below changes.
set -euo pipefail
cd "$(dirname "$0")/.."
deps=node_modules/@grpc/grpc-js-xds/deps
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$deps/envoy-api/." "$work/"
cp -r "$deps/xds/." "$work/"
cp -r "$deps/googleapis/." "$work/"
cp -r "$deps/protoc-gen-validate/." "$work/"
cp -r proto/. "$work/"
# The shipped validate.proto is older than envoy-api: StringRules lacks ignore_empty.
if ! grep -q ignore_empty "$work/validate/validate.proto"; then
  sed -i 's/^message StringRules {/message StringRules {\n    optional bool ignore_empty = 26;/' "$work/validate/validate.proto"
fi
files=(
  envoy/service/discovery/v3/ads.proto
  envoy/service/discovery/v3/discovery.proto
  envoy/service/secret/v3/sds.proto
  envoy/service/ratelimit/v3/rls.proto
  envoy/service/auth/v3/external_auth.proto
  envoy/service/status/v3/csds.proto
  envoy/config/listener/v3/listener.proto
  envoy/config/route/v3/route.proto
  envoy/config/cluster/v3/cluster.proto
  envoy/config/endpoint/v3/endpoint.proto
  envoy/config/rbac/v3/rbac.proto
  envoy/config/trace/v3/opentelemetry.proto
  envoy/config/trace/v3/zipkin.proto
  envoy/admin/v3/config_dump.proto
  envoy/admin/v3/config_dump_shared.proto
  envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
  envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto
  envoy/extensions/filters/network/rbac/v3/rbac.proto
  envoy/extensions/filters/http/router/v3/router.proto
  envoy/extensions/filters/http/fault/v3/fault.proto
  envoy/extensions/filters/http/cors/v3/cors.proto
  envoy/extensions/filters/http/rbac/v3/rbac.proto
  envoy/extensions/filters/http/jwt_authn/v3/config.proto
  envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto
  envoy/extensions/filters/http/ratelimit/v3/rate_limit.proto
  envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto
  envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto
  envoy/extensions/filters/listener/original_dst/v3/original_dst.proto
  envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto
  envoy/extensions/transport_sockets/tls/v3/tls.proto
  envoy/extensions/transport_sockets/tls/v3/secret.proto
  envoy/extensions/upstreams/http/v3/http_protocol_options.proto
  envoy/extensions/access_loggers/file/v3/file.proto
  envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto
  envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto
  udpa/type/v1/typed_struct.proto
  xds/type/v3/typed_struct.proto
  istio/v1/auth/istioca.proto
)
cat > "$work/buf.yaml" <<'Y'
version: v2
Y
cat > "$work/buf.gen.yaml" <<Y
version: v2
plugins:
  - local: $PWD/node_modules/.bin/protoc-gen-es
    out: $PWD/src/xds/gen
    include_imports: true
    opt: [target=ts, import_extension=js]
Y
rm -rf src/xds/gen
args=()
for f in "${files[@]}"; do args+=(--path "$f"); done
(cd "$work" && "$OLDPWD/node_modules/.bin/buf" generate "${args[@]}")
echo "generated $(find src/xds/gen -name '*.ts' | wc -l) files"

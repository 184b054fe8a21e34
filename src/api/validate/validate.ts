// Validates resources (envelope, metadata and spec of every kind) into ConfigMessages with file positions.

import { type LoadedResource, unpositioned } from '../load/loaded-resource.js';
import { type ConfigMessage, formatPath, ValidationCode } from '../messages.js';
import {
  type CheckContext,
  type Issue,
  int,
  isPlainObject,
  mapOf,
  object,
  opt,
  refine,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import { KINDS, type KindName, type KindSpecs, kindInfo } from '../types/index.js';
import { DEFAULT_NAMESPACE, type ObjectMeta, type Resource, refKey, refOf } from '../types/meta.js';
import { labels } from './common.js';
import { destinationRuleSpec } from './destination-rule.js';
import { envoyFilterSpec } from './envoy-filter.js';
import { gatewaySpec } from './gateway.js';
import { configMapData, deploymentSpec, emptySpec, IGNORED_KUBERNETES_FIELDS, serviceSpec } from './kube.js';
import { isDns1035Label, isDns1123Label, isDns1123Subdomain } from './names.js';
import { authorizationPolicySpec, peerAuthenticationSpec, requestAuthenticationSpec } from './security.js';
import { serviceEntrySpec, workloadEntrySpec } from './service-entry.js';
import { sidecarSpec } from './sidecar.js';
import { telemetrySpec } from './telemetry.js';
import { virtualServiceSpec } from './virtual-service.js';

/** One spec schema per kind: the mapped type makes a missing kind a compile error. */
const SPEC_SCHEMAS: { [K in KindName]: () => Schema<KindSpecs[K]> } = {
  VirtualService: virtualServiceSpec,
  DestinationRule: destinationRuleSpec,
  Gateway: gatewaySpec,
  ServiceEntry: serviceEntrySpec,
  WorkloadEntry: workloadEntrySpec,
  Sidecar: sidecarSpec,
  EnvoyFilter: envoyFilterSpec,
  PeerAuthentication: peerAuthenticationSpec,
  AuthorizationPolicy: authorizationPolicySpec,
  RequestAuthentication: requestAuthenticationSpec,
  Telemetry: telemetrySpec,
  Namespace: emptySpec,
  ServiceAccount: emptySpec,
  Service: serviceSpec,
  ConfigMap: configMapData,
  Deployment: deploymentSpec,
};

const built = new Map<string, Schema<unknown>>();

function specSchema(kind: KindName): Schema<unknown> {
  let s = built.get(kind);
  if (!s) {
    s = SPEC_SCHEMAS[kind]() as Schema<unknown>;
    built.set(kind, s);
  }
  return s;
}

/** Name rules differ: Istio wants Gateways to be DNS labels, Kubernetes wants Services to be DNS-1035 labels. */
function nameProblem(kind: string, name: string): string | undefined {
  switch (kind) {
    case 'Gateway':
    case 'Namespace':
      return isDns1123Label(name)
        ? undefined
        : `${kind} name "${name}" must be a lowercase DNS label (a-z, 0-9, "-", at most 63)`;
    case 'Service':
      return isDns1035Label(name)
        ? undefined
        : `Service name "${name}" must be a DNS-1035 label (start with a letter; a-z, 0-9, "-", at most 63)`;
    default:
      return isDns1123Subdomain(name)
        ? undefined
        : `name "${name}" must be a lowercase DNS name (a-z, 0-9, "-" and ".", at most 253)`;
  }
}

const metadataSchema = (kind: string): Schema<ObjectMeta> =>
  object<ObjectMeta>({
    name: req(
      refine(str({ nonEmpty: true }), (n, path, ctx) => {
        const p = nameProblem(kind, n);
        if (p) report(ctx, path, p);
      }),
    ),
    namespace: opt(
      refine(str({ nonEmpty: true }), (n, path, ctx) => {
        if (!isDns1123Label(n)) report(ctx, path, `namespace "${n}" must be a lowercase DNS label`);
      }),
    ),
    labels: opt(labels()),
    annotations: opt(mapOf(str())),
    resourceVersion: opt(str()),
    generation: opt(int({ min: 0 })),
    creationTimestamp: opt(str()),
    uid: opt(str()),
  });

function toMessage(issue: Issue, loaded: LoadedResource): ConfigMessage {
  const r = loaded.resource;
  const name = typeof r.metadata?.name === 'string' && r.metadata.name ? r.metadata.name : '(unnamed)';
  return {
    severity: issue.severity,
    code: issue.code,
    message: issue.message,
    position: loaded.positionOf(issue.path, {
      atKey: issue.atKey ?? false,
      ...(issue.inner ? { inner: issue.inner } : {}),
    }),
    resource: {
      kind: r.kind,
      namespace: kindInfo(r.kind)?.namespaced === false ? '' : (r.metadata?.namespace ?? DEFAULT_NAMESPACE),
      name,
    },
    path: formatPath(issue.path),
    ...(issue.fix ? { fix: issue.fix } : {}),
  };
}

/** Kubernetes fields Trellis knows but does not use are warnings, not errors. */
function downgradeIgnored(issue: Issue, kind: string): Issue {
  const group = kindInfo(kind)?.group;
  const last = issue.path[issue.path.length - 1];
  if (
    (group === '' || group === 'apps') &&
    issue.code === ValidationCode.UnknownField &&
    typeof last === 'string' &&
    IGNORED_KUBERNETES_FIELDS.has(last)
  ) {
    return {
      ...issue,
      severity: 'warning',
      code: ValidationCode.Ignored,
      message: `"${last}" is a Kubernetes field that Trellis ignores`,
    };
  }
  return issue;
}

/** Validates one resource; accepts a LoadedResource (positions) or a bare Resource (no positions). */
export function validateResource(input: LoadedResource | Resource): ConfigMessage[] {
  const loaded = 'resource' in input && 'positionOf' in input ? input : unpositioned(input as Resource);
  const r = loaded.resource as unknown as Record<string, unknown>;
  const kind = String(r.kind ?? '');
  const info = kindInfo(kind);
  const metadata = isPlainObject(r.metadata) ? r.metadata : {};
  const ctx: CheckContext = {
    kind,
    namespace: typeof metadata.namespace === 'string' ? metadata.namespace : DEFAULT_NAMESPACE,
    name: typeof metadata.name === 'string' ? metadata.name : '',
    issues: [],
  };
  if (!info) {
    report(ctx, ['kind'], `unknown kind "${kind}" (Trellis reads ${Object.keys(KINDS).join(', ')})`, {
      code: ValidationCode.UnknownKind,
    });
  } else {
    const version = String(r.apiVersion ?? '');
    const expected = info.versions.map((v) => (info.group ? `${info.group}/${v}` : v));
    if (!expected.includes(version)) {
      report(
        ctx,
        ['apiVersion'],
        `apiVersion "${version}" is not served for ${kind}; use one of ${expected.join(', ')}`,
        { code: ValidationCode.UnservedVersion },
      );
    }
    if (r.metadata === undefined)
      report(ctx, ['metadata'], 'metadata (with a name) is missing', { code: ValidationCode.MissingField });
    else metadataSchema(kind).check(r.metadata, ['metadata'], ctx);
    const spec = r.spec ?? {};
    try {
      specSchema(kind as KindName).check(spec, ['spec'], ctx);
    } catch (e) {
      // A bug in a check must not hide the resource's other problems, nor end in a stack trace.
      report(ctx, ['spec'], `internal error while validating (please report it): ${(e as Error).message}`, {
        code: 'InternalError',
      });
    }
  }
  return ctx.issues.map((i) => toMessage(downgradeIgnored(i, kind), loaded));
}

/**
 * Validates a set of resources: each one, and warns when one file defines a resource twice. Definitions in
 * different files are not reported: folders of alternatives (Istio's samples) are common, and, as with
 * `kubectl apply -f`, the later one replaces the earlier.
 */
export function validateResources(resources: readonly LoadedResource[]): ConfigMessage[] {
  const messages: ConfigMessage[] = [];
  const seen = new Map<string, LoadedResource>();
  for (const loaded of resources) {
    messages.push(...validateResource(loaded));
    const name = loaded.resource.metadata?.name;
    if (typeof name !== 'string' || !name) continue;
    const key = `${loaded.source.file}\0${refKey(refOf(loaded.resource))}`;
    const first = seen.get(key);
    if (first) {
      messages.push({
        severity: 'warning',
        code: ValidationCode.DuplicateResource,
        message: `defined twice in this file (also at line ${first.source.line}); the later definition replaces the earlier`,
        position: loaded.positionOf(['metadata', 'name']),
        resource: refOf(loaded.resource),
        path: 'metadata.name',
      });
    } else seen.set(key, loaded);
  }
  return messages;
}

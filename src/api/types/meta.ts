// The Kubernetes object envelope shared by every resource kind Trellis reads.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set by the config store on every accepted change; opaque to users. */
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  uid?: string;
}

/** Any resource: `spec` is typed per kind in the sibling modules. */
export interface Resource<K extends string = string, S = unknown> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

/** Where a resource (or one of its fields) came from, for error messages. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** Reference to one resource: used by the config store, the CLI and analysis messages. */
export interface ResourceRef {
  kind: string;
  namespace: string;
  name: string;
}

export const DEFAULT_NAMESPACE = 'default';
/** Istio's root namespace: policies here apply mesh-wide. */
export const ROOT_NAMESPACE = 'istio-system';

export function refOf(r: Resource): ResourceRef {
  return { kind: r.kind, namespace: r.metadata.namespace ?? DEFAULT_NAMESPACE, name: r.metadata.name };
}

export function refKey(ref: ResourceRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export function formatRef(ref: ResourceRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

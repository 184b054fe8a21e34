// The Kubernetes kinds Trellis reads: Service, Deployment (pod template), ConfigMap, Namespace, ServiceAccount.

import {
  anyObject,
  arrayOf,
  bool,
  emptyObject,
  enumOf,
  int,
  intOrString,
  mapOf,
  object,
  opt,
  refine,
  report,
  req,
  type Schema,
  str,
} from '../schema/schema.js';
import type {
  ConfigMapData,
  Container,
  ContainerPort,
  DeploymentSpec,
  EmptySpec,
  EnvVar,
  KubeServicePort,
  PodSpec,
  PodTemplateSpec,
  Probe,
  ServiceSpec,
} from '../types/kube.js';
import { ipAddress, labels, port } from './common.js';
import { checkMeshConfigText } from './mesh-config.js';
import { isDns1123Label } from './names.js';

/** Kubernetes fields that Trellis accepts but does not use: reported as warnings rather than errors. */
export const IGNORED_KUBERNETES_FIELDS = new Set([
  // Service
  'sessionAffinity',
  'sessionAffinityConfig',
  'clusterIPs',
  'ipFamilies',
  'ipFamilyPolicy',
  'internalTrafficPolicy',
  'externalTrafficPolicy',
  'publishNotReadyAddresses',
  'loadBalancerIP',
  'loadBalancerSourceRanges',
  'loadBalancerClass',
  'externalIPs',
  'healthCheckNodePort',
  'allocateLoadBalancerNodePorts',
  // Deployment
  'revisionHistoryLimit',
  'progressDeadlineSeconds',
  'minReadySeconds',
  'paused',
  // Pod and container
  'restartPolicy',
  'dnsPolicy',
  'dnsConfig',
  'schedulerName',
  'nodeSelector',
  'nodeName',
  'affinity',
  'tolerations',
  'imagePullSecrets',
  'hostname',
  'subdomain',
  'priorityClassName',
  'automountServiceAccountToken',
  'serviceAccount',
  'enableServiceLinks',
  'topologySpreadConstraints',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'startupProbe',
  'lifecycle',
  'envFrom',
  'stdin',
  'tty',
  'hostAliases',
  'hostNetwork',
  'hostPID',
  'hostIPC',
  'shareProcessNamespace',
  'runtimeClassName',
  'preemptionPolicy',
  'readinessGates',
  'setHostnameAsFQDN',
  'securityContext',
  'stdinOnce',
  'resizePolicy',
]);

const ianaName = (what: string) =>
  refine(str({ nonEmpty: true }), (n, path, ctx) => {
    if (n.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n) || !/[a-z]/.test(n) || n.includes('--')) {
      report(
        ctx,
        path,
        `${what} "${n}" must be at most 15 lowercase letters, digits and "-", with at least one letter`,
      );
    }
  });

const portOrName = () =>
  refine(intOrString(), (p, path, ctx) => {
    if (typeof p === 'number' && (p < 1 || p > 65535)) report(ctx, path, `port must be 1-65535, got ${p}`);
    if (typeof p === 'string' && (p.length > 15 || !/^[a-z0-9-]*[a-z][a-z0-9-]*$/.test(p))) {
      report(ctx, path, `port name "${p}" must be at most 15 lowercase letters, digits and "-"`);
    }
  });

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

const servicePort = (): Schema<KubeServicePort> =>
  object<KubeServicePort>({
    name: opt(ianaName('port name')),
    port: req(port()),
    targetPort: opt(portOrName()),
    protocol: opt(enumOf(PROTOCOLS)),
    appProtocol: opt(str()),
    nodePort: opt(int({ min: 1, max: 65535 })),
  });

export const serviceSpec = (): Schema<ServiceSpec> =>
  refine(
    object<ServiceSpec>({
      selector: opt(labels()),
      ports: opt(arrayOf(servicePort())),
      type: opt(enumOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'])),
      clusterIP: opt(
        refine(str(), (ip, path, ctx) => {
          if (ip !== 'None' && ip !== '') ipAddress().check(ip, path, ctx);
        }),
      ),
      externalName: opt(str({ nonEmpty: true })),
    }),
    (s, path, ctx) => {
      const type = s.type ?? 'ClusterIP';
      const ports = s.ports ?? [];
      if (ports.length > 1) {
        ports.forEach((p, i) => {
          if (!p.name)
            report(
              ctx,
              [...path, 'ports', i, 'name'],
              'every port needs a name when a Service has more than one port',
              { code: 'MissingField' },
            );
        });
      }
      const names = new Map<string, number>();
      const numbers = new Map<string, number>();
      ports.forEach((p, i) => {
        if (p.name) {
          if (names.has(p.name))
            report(
              ctx,
              [...path, 'ports', i, 'name'],
              `port name "${p.name}" is already used by ports[${names.get(p.name)}]`,
            );
          names.set(p.name, i);
        }
        const key = `${p.port}/${p.protocol ?? 'TCP'}`;
        if (numbers.has(key))
          report(
            ctx,
            [...path, 'ports', i, 'port'],
            `port ${key} is already defined by ports[${numbers.get(key)}]`,
          );
        numbers.set(key, i);
        if (p.nodePort !== undefined && type !== 'NodePort' && type !== 'LoadBalancer') {
          report(
            ctx,
            [...path, 'ports', i, 'nodePort'],
            `nodePort needs type NodePort or LoadBalancer, not ${type}`,
          );
        }
      });
      if (type === 'ExternalName' && !s.externalName)
        report(ctx, [...path, 'externalName'], 'type ExternalName needs externalName', {
          code: 'MissingField',
        });
      if (type !== 'ExternalName' && s.externalName)
        report(ctx, [...path, 'externalName'], 'externalName needs type ExternalName', { atKey: true });
      if (type !== 'ExternalName' && ports.length === 0)
        report(ctx, [...path, 'ports'], 'a Service needs at least one port', { code: 'MissingField' });
    },
  );

const envVar = (): Schema<EnvVar> =>
  refine(
    object<EnvVar>({
      name: req(
        refine(str({ nonEmpty: true }), (n, path, ctx) => {
          if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(n))
            report(
              ctx,
              path,
              `environment variable name "${n}" must consist of letters, digits, "_", "-" and "." and not start with a digit`,
            );
        }),
      ),
      value: opt(str()),
      valueFrom: opt(
        object<NonNullable<EnvVar['valueFrom']>>(
          {
            fieldRef: opt(object<{ fieldPath: string }>({ fieldPath: req(str({ nonEmpty: true })) })),
            secretKeyRef: opt(
              object<{ name: string; key: string }>({
                name: req(str({ nonEmpty: true })),
                key: req(str({ nonEmpty: true })),
              }),
            ),
            configMapKeyRef: opt(
              object<{ name: string; key: string }>({
                name: req(str({ nonEmpty: true })),
                key: req(str({ nonEmpty: true })),
              }),
            ),
          },
          { oneOf: [['fieldRef', 'secretKeyRef', 'configMapKeyRef']] },
        ),
      ),
    }),
    (e, path, ctx) => {
      if (e.value !== undefined && e.valueFrom)
        report(ctx, [...path, 'valueFrom'], 'set either value or valueFrom, not both', { atKey: true });
    },
  );

const containerPort = (): Schema<ContainerPort> =>
  object<ContainerPort>({
    containerPort: req(port()),
    name: opt(ianaName('port name')),
    protocol: opt(enumOf(PROTOCOLS)),
  });

const probe = (): Schema<Probe> =>
  object<Probe>(
    {
      httpGet: opt(
        object<NonNullable<Probe['httpGet']>>({
          path: opt(str()),
          port: req(portOrName()),
          scheme: opt(enumOf(['HTTP', 'HTTPS'])),
        }),
      ),
      tcpSocket: opt(object<{ port: number | string }>({ port: req(portOrName()) })),
      exec: opt(object<{ command: string[] }>({ command: req(arrayOf(str(), { minItems: 1 })) })),
      initialDelaySeconds: opt(int({ min: 0 })),
      periodSeconds: opt(int({ min: 1 })),
      timeoutSeconds: opt(int({ min: 1 })),
      failureThreshold: opt(int({ min: 1 })),
      successThreshold: opt(int({ min: 1 })),
    },
    { oneOf: [['httpGet', 'tcpSocket', 'exec']] },
  );

const container = (): Schema<Container> =>
  object<Container>({
    name: req(
      refine(str({ nonEmpty: true }), (n, path, ctx) => {
        if (!isDns1123Label(n)) report(ctx, path, `container name "${n}" must be a lowercase DNS label`);
      }),
    ),
    image: opt(str({ nonEmpty: true })),
    imagePullPolicy: opt(enumOf<string>(['Always', 'IfNotPresent', 'Never'])),
    command: opt(arrayOf(str())),
    args: opt(arrayOf(str())),
    workingDir: opt(str()),
    env: opt(arrayOf(envVar())),
    ports: opt(arrayOf(containerPort())),
    readinessProbe: opt(probe()),
    livenessProbe: opt(probe()),
    resources: opt(anyObject()),
    securityContext: opt(anyObject()),
    volumeMounts: opt(
      arrayOf(
        object<{ name: string; mountPath: string; readOnly?: boolean }>({
          name: req(str({ nonEmpty: true })),
          mountPath: req(str({ nonEmpty: true })),
          readOnly: opt(bool()),
        }),
      ),
    ),
  });

const podSpec = (): Schema<PodSpec> =>
  refine(
    object<PodSpec>({
      serviceAccountName: opt(
        refine(str({ nonEmpty: true }), (n, path, ctx) => {
          if (!n.split('.').every(isDns1123Label))
            report(ctx, path, `service account name "${n}" must be a lowercase DNS name`);
        }),
      ),
      containers: req(arrayOf(container(), { minItems: 1 })),
      initContainers: opt(arrayOf(container())),
      terminationGracePeriodSeconds: opt(int({ min: 0 })),
      restartPolicy: opt(enumOf(['Always', 'OnFailure', 'Never'])),
      volumes: opt(arrayOf(anyObject())),
    }),
    (p, path, ctx) => {
      const names = new Map<string, string>();
      const all = [
        ...p.containers.map((c, i) => ({ c, at: [...path, 'containers', i] })),
        ...(p.initContainers ?? []).map((c, i) => ({ c, at: [...path, 'initContainers', i] })),
      ];
      for (const { c, at } of all) {
        if (names.has(c.name))
          report(ctx, [...at, 'name'], `container name "${c.name}" is used twice in the pod`);
        names.set(c.name, c.name);
      }
      const portNames = new Set<string>();
      p.containers.forEach((c, i) => {
        c.ports?.forEach((cp, j) => {
          if (!cp.name) return;
          if (portNames.has(cp.name))
            report(
              ctx,
              [...path, 'containers', i, 'ports', j, 'name'],
              `port name "${cp.name}" is used twice in the pod`,
            );
          portNames.add(cp.name);
        });
      });
    },
  );

const podTemplate = (): Schema<PodTemplateSpec> =>
  object<PodTemplateSpec>({
    metadata: opt(
      object<NonNullable<PodTemplateSpec['metadata']>>({
        labels: opt(labels()),
        annotations: opt(mapOf(str())),
      }),
    ),
    spec: req(podSpec()),
  });

export const deploymentSpec = (): Schema<DeploymentSpec> =>
  refine(
    object<DeploymentSpec>({
      replicas: opt(int({ min: 0 })),
      selector: req(object<{ matchLabels?: Record<string, string> }>({ matchLabels: opt(labels()) })),
      template: req(podTemplate()),
      strategy: opt(anyObject()),
    }),
    (d, path, ctx) => {
      const selector = d.selector.matchLabels ?? {};
      const labelsOfPods = d.template.metadata?.labels ?? {};
      if (Object.keys(selector).length === 0) {
        report(ctx, [...path, 'selector', 'matchLabels'], 'the selector must have at least one label', {
          code: 'MissingField',
        });
        return;
      }
      const mismatched = Object.entries(selector).filter(([k, v]) => labelsOfPods[k] !== v);
      if (mismatched.length) {
        report(
          ctx,
          [...path, 'selector', 'matchLabels'],
          `selector does not match the pod template's labels: ${mismatched.map(([k, v]) => `${k}=${v} (template has ${labelsOfPods[k] === undefined ? 'no such label' : `${k}=${labelsOfPods[k]}`})`).join(', ')}`,
          { fix: 'make spec.template.metadata.labels include every selector label' },
        );
      }
    },
  );

export const emptySpec = (): Schema<EmptySpec> => emptyObject();

export const configMapData = (): Schema<ConfigMapData> =>
  refine(object<ConfigMapData>({ data: opt(mapOf(str())) }), (c, path, ctx) => {
    // Istio reads the mesh config from ConfigMap istio-system/istio, key `mesh`.
    if (ctx.namespace === 'istio-system' && ctx.name === 'istio' && c.data?.mesh !== undefined) {
      checkMeshConfigText(c.data.mesh, [...path, 'data', 'mesh'], ctx);
    }
  });

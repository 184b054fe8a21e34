// Checks the manifests the runtime runs with the config room's validation (every kind, file:line:col), plus what
// only the local runtime needs: a container must have a command, since it runs commands, not images.

import { type LoadedResource, unpositioned } from '../api/load/loaded-resource.js';
import { formatMessage } from '../api/messages.js';
import type { Deployment } from '../api/types/index.js';
import { validateResources } from '../api/validate/validate.js';
import type { LoadedManifest, ManifestMessage } from './manifests.js';

function describe(m: LoadedManifest): string {
  const r = m.resource;
  return `${r.kind} ${r.kind === 'Namespace' ? '' : `${r.metadata.namespace ?? 'default'}/`}${r.metadata.name}`;
}

/** Manifests that crossed the daemon's API are plain JSON: their loader view has no methods left. */
function loadedOf(m: LoadedManifest): LoadedResource {
  if (typeof m.loaded?.positionOf === 'function') return m.loaded;
  const source = m.position;
  return { ...unpositioned(m.resource), source, positionOf: () => source };
}

/** Errors (and warnings) for every manifest; the batch is refused when any is an error. */
export function validateRuntimeManifests(manifests: readonly LoadedManifest[]): ManifestMessage[] {
  const out: ManifestMessage[] = validateResources(manifests.map(loadedOf)).map((msg) => ({
    severity: msg.severity === 'error' ? 'error' : 'warning',
    message: formatMessage({ ...msg, position: undefined }),
    ...(msg.position ? { position: msg.position } : {}),
  }));
  for (const m of manifests) {
    if (m.resource.kind !== 'Deployment') continue;
    const containers = (m.resource as Deployment).spec?.template?.spec?.containers ?? [];
    containers.forEach((c, i) => {
      if (!c?.command?.length && !c?.args?.length) {
        out.push({
          severity: 'error',
          message: `${describe(m)}: spec.template.spec.containers[${i}]: no command; the local runtime runs commands, not images`,
          position: loadedOf(m).positionOf(['spec', 'template', 'spec', 'containers', i]),
        });
      }
    });
  }
  return out;
}

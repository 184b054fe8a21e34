// The Istio resources that apply to a service or workload, with their messages and convergence.

import { api } from '../api.js';
import { useLive } from '../live.js';
import { href } from '../route.js';
import { AppliedTo, Messages } from './config-bits.js';
import { Card, Empty, Loaded } from './ui.js';

export function AppliedConfig(props: { services: string[]; workload?: string }) {
  const key = `${props.services.join(',')}|${props.workload ?? ''}`;
  const res = useLive(
    () => api.config({ service: props.services, workload: props.workload }),
    ['config'],
    [key],
  );
  return (
    <Card title="Config that applies" testid="applied-config">
      <Loaded resource={res}>
        {(d) =>
          d.items.length === 0 ? (
            <Empty>No VirtualService, DestinationRule or policy applies.</Empty>
          ) : (
            <table class="table">
              <thead>
                <tr>
                  <th>Kind</th>
                  <th>Name</th>
                  <th>Applied</th>
                  <th>Messages</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((i) => (
                  <tr key={`${i.kind}/${i.namespace}/${i.name}`}>
                    <td>{i.kind}</td>
                    <td>
                      <a
                        href={href(['config'], { kind: i.kind, focus: `${i.kind}/${i.namespace}/${i.name}` })}
                      >
                        {i.namespace}/{i.name}
                      </a>
                    </td>
                    <td>
                      <AppliedTo item={i} />
                    </td>
                    <td>
                      <Messages messages={i.messages} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </Card>
  );
}

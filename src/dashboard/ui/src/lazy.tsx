// Pages that pull in heavy libraries (the graph's cytoscape) load on first visit, not with the app.

import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorNote, Loading } from './components/ui.js';

export function lazyPage<P extends object>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | undefined;
  return (props: P) => {
    const [Comp, setComp] = useState<FunctionComponent<P> | undefined>(() => loaded);
    const [error, setError] = useState<Error | undefined>(undefined);
    useEffect(() => {
      if (Comp) return;
      load().then(
        (c) => {
          loaded = c;
          setComp(() => c);
        },
        (e: Error) => setError(e),
      );
    }, []);
    if (error) return <ErrorNote error={error} />;
    return Comp ? <Comp {...props} /> : <Loading />;
  };
}

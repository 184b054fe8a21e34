// MemoryConfigStore runs the shared ConfigStore conformance suite.

import { MemoryConfigStore } from './memory-store.js';
import { storeConformance } from './store-conformance.js';

storeConformance('MemoryConfigStore', async ({ clock }) => ({
  store: new MemoryConfigStore({ clock }),
  clock,
  cleanup: async () => {},
}));

// The dashboard's build: Preact, one small entry chunk, the graph (cytoscape) and charts (uPlot) split out.

import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  plugins: [preact()],
  build: {
    target: 'es2022',
    sourcemap: false,
    // cytoscape alone is about 430 kB minified; it loads only with the graph page.
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npx vite` in this folder against a control plane on the usual port.
    proxy: { '/api': 'http://127.0.0.1:15014' },
  },
});

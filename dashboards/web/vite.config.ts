/**
 * The analyst pages' bundle: `vite build --config dashboards/web/vite.config.ts` (part of `npm run
 * build`) writes index.html and hashed assets to dist/web/, which the gateway serves (dashboards/index.ts).
 * Everything the pages need is in the bundle: no CDN, nothing fetched from elsewhere.
 */
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // the pages run under a CSP without inline script: no module preload polyfill injected inline
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
});

#!/usr/bin/env node
// The `storeloop` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('storeloop: dist/ is missing; run `npm install` (or `npm run build`) in the storeloop folder first\n');
  process.exit(1);
}
await import(entry.href);

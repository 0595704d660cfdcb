/** The package version, read once from package.json (two levels up from both gateway/ and dist/gateway/). */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'storeloop' && pkg.version) return pkg.version;
    } catch {
      // not at this level: try the next one
    }
  }
  return '0.0.0';
}

export const STORELOOP_VERSION = readVersion();

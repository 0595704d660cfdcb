import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { describe, expect, it, onTestFinished } from 'vitest';

import { runConfigCheck } from './config-check-command.js';

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** A temp dir removed when the test finishes. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storeloop-check-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('storeloop config check', () => {
  it('reads the MQTT TLS certificate files and names the one it cannot read', () => {
    const dir = tempDir();
    const file = join(dir, 'store.yaml');
    const keyFile = join(dir, 'missing.key');
    writeFileSync(file, `mqtt:\n  tls:\n    certFile: ${join(dir, 'gw.pem')}\n    keyFile: ${keyFile}\nstores: [{ id: s, zones: [{ id: z }] }]\n`);
    writeFileSync(join(dir, 'gw.pem'), 'not read further: the key is missing\n');
    const out = collect();
    const err = collect();
    expect(runConfigCheck(file, out.stream, err.stream)).toBe(1);
    expect(err.text()).toMatch(new RegExp(`^${file}: mqtt\\.tls\\.keyFile: cannot read ${keyFile}: ENOENT`));
    expect(out.text()).toBe('');
  });

  it('prints a warning for each deprecated key the file sets, and still passes', () => {
    const dir = tempDir();
    const file = join(dir, 'store.yaml');
    writeFileSync(file, 'influx:\n  flushIntervalMs: 25\n  maxRetries: 5\nstores: [{ id: s, zones: [{ id: z }] }]\n');
    const out = collect();
    const err = collect();
    expect(runConfigCheck(file, out.stream, err.stream)).toBe(0);
    expect(out.text()).toMatch(new RegExp(`^${file}: OK`));
    expect(err.text().trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${file}: warning: influx\\.flushIntervalMs is deprecated and ignored`)),
      expect.stringMatching(new RegExp(`^${file}: warning: influx\\.maxRetries is deprecated and ignored`)),
    ]);
  });
});

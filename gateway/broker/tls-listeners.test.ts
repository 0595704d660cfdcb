import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { readTlsCredentials, TlsFileError, type TlsConfig } from './tls-listeners.js';

function tlsConfig(over: Partial<TlsConfig>): TlsConfig {
  return { host: '127.0.0.1', port: 0, wsPort: null, certFile: 'gw.pem', keyFile: 'gw.key', clientCertificates: 'off', minVersion: 'TLSv1.2', ...over };
}

describe('readTlsCredentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'storeloop-tls-unit-'));
  const notPem = join(dir, 'not-pem.pem');
  writeFileSync(notPem, 'not a certificate\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the key and the file that cannot be read', () => {
    const missing = join(dir, 'missing.key');
    const read = () => readTlsCredentials(tlsConfig({ certFile: notPem, keyFile: missing }));
    expect(read).toThrow(TlsFileError);
    expect(read).toThrow(`mqtt.tls.keyFile: cannot read ${missing}: ENOENT`);
    expect(() => readTlsCredentials(tlsConfig({ certFile: notPem, keyFile: notPem, caFile: dir, clientCertificates: 'required' }))).toThrow(
      `mqtt.tls.caFile: cannot read ${dir}: EISDIR`,
    );
  });

  it('names the files OpenSSL refuses', () => {
    expect(() => readTlsCredentials(tlsConfig({ certFile: notPem, keyFile: notPem }))).toThrow(
      new RegExp(`^mqtt\\.tls: OpenSSL refuses the certificate files \\(${notPem}, ${notPem}\\)`),
    );
  });
});

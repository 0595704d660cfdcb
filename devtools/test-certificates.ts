/**
 * Certificates for tests and the demo, made with the real `openssl` CLI (Debian package `openssl`):
 * a CA, a server certificate for localhost/127.0.0.1, client certificates signed by the CA, one
 * signed by a second CA the gateway does not trust, and one that expired. EC P-256 keys: fast to make.
 *
 * `openssl ca` signs every certificate: it takes `-startdate`/`-enddate`, which `openssl x509 -req`
 * of OpenSSL 3.0 (Debian 12) cannot, so the expired certificate is made the same way as the others.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ensureProgram } from './ensure-program.js';

const run = promisify(execFile);

/** A certificate and its private key, both PEM files. */
export interface CertificatePair {
  certFile: string;
  keyFile: string;
}

/** A CA that signs certificates: its certificate (the file a peer trusts) and key. */
export interface TestCa extends CertificatePair {
  name: string;
}

export interface TestCertificates {
  dir: string;
  /** The CA the gateway trusts for client certificates, and that signed the server certificate. */
  ca: TestCa;
  /** For 127.0.0.1 and localhost (subjectAltName). */
  server: CertificatePair;
  /** A second server certificate of the same CA (for reload tests). */
  spareServer: CertificatePair;
  /** Signed by `ca`, subject CN `clientName`. */
  client: CertificatePair;
  clientName: string;
  /** A CA the gateway does not trust. */
  otherCa: TestCa;
  /** Signed by `otherCa`, same CN as `client`. */
  untrustedClient: CertificatePair;
  /** Signed by `ca`, same CN as `client`, valid only in 2020. */
  expiredClient: CertificatePair;
}

/** The minimal config `openssl req` and `openssl ca` run with here (the system's openssl.cnf is not read). */
const OPENSSL_CONFIG = `
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = test_ca
[ test_ca ]
database = ./index.txt
new_certs_dir = ./issued
serial = ./serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[ any_name ]
commonName = supplied
[ server ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
[ client ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
`;

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Runs openssl in `dir` with the config above; its stderr becomes the error message on failure. */
async function openssl(openSslPath: string, dir: string, args: string[]): Promise<void> {
  try {
    await run(openSslPath, args, { cwd: dir, env: { ...process.env, OPENSSL_CONF: join(dir, 'openssl.cnf') } });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${stderr.trim() || (err as Error).message}`, { cause: err });
  }
}

/** A CLI bound to one working directory holding the CA database. */
export class CertificateMaker {
  private constructor(
    private readonly openSslPath: string,
    readonly dir: string,
  ) {}

  /** Prepares `dir` (created if missing) and finds openssl, installing Debian's package when root. */
  static async create(dir: string, log: (line: string) => void = () => undefined): Promise<CertificateMaker> {
    const openSslPath = ensureProgram('openssl', 'openssl', log);
    await mkdir(join(dir, 'issued'), { recursive: true });
    await writeFile(join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(join(dir, 'serial'), '1000\n');
    return new CertificateMaker(openSslPath, dir);
  }

  /** A self-signed CA certificate valid for 10 years; files `<file>.pem` and `<file>.key`. */
  async ca(file: string, name: string): Promise<TestCa> {
    const pair = this.files(file);
    await openssl(this.openSslPath, this.dir, [
      'req',
      '-x509',
      '-new',
      ...EC_KEY,
      '-keyout',
      pair.keyFile,
      '-out',
      pair.certFile,
      '-days',
      '3650',
      '-subj',
      `/CN=${name}`,
      '-extensions',
      'v3_ca',
    ]);
    return { ...pair, name };
  }

  /**
   * A certificate signed by `ca`: `kind` picks its extensions (server: localhost and 127.0.0.1 as
   * subjectAltName). Valid for a year from now unless `validity` gives its dates (YYYYMMDDHHMMSSZ).
   */
  async issue(
    file: string,
    options: { ca: TestCa; kind: 'server' | 'client'; name: string; validity?: { from: string; until: string } },
  ): Promise<CertificatePair> {
    const pair = this.files(file);
    const csr = join(this.dir, `${file}.csr`);
    await openssl(this.openSslPath, this.dir, ['req', '-new', ...EC_KEY, '-keyout', pair.keyFile, '-out', csr, '-subj', `/CN=${options.name}`]);
    const dates = options.validity ? ['-startdate', options.validity.from, '-enddate', options.validity.until] : ['-days', '365'];
    await openssl(this.openSslPath, this.dir, [
      'ca',
      '-batch',
      '-notext',
      '-cert',
      options.ca.certFile,
      '-keyfile',
      options.ca.keyFile,
      '-in',
      csr,
      '-out',
      pair.certFile,
      '-extensions',
      options.kind,
      ...dates,
    ]);
    return pair;
  }

  private files(file: string): CertificatePair {
    return { certFile: join(this.dir, `${file}.pem`), keyFile: join(this.dir, `${file}.key`) };
  }
}

/** Every certificate the TLS tests need, made in `dir` (a few hundred ms). */
export async function makeTestCertificates(dir: string, options: { clientName?: string; log?: (line: string) => void } = {}): Promise<TestCertificates> {
  const clientName = options.clientName ?? 'kiosk-1';
  const maker = await CertificateMaker.create(dir, options.log);
  const ca = await maker.ca('ca', 'storeloop test CA');
  const otherCa = await maker.ca('other-ca', 'some other CA');
  return {
    dir,
    ca,
    server: await maker.issue('server', { ca, kind: 'server', name: 'storeloop gateway' }),
    spareServer: await maker.issue('spare-server', { ca, kind: 'server', name: 'storeloop gateway (renewed)' }),
    client: await maker.issue('client', { ca, kind: 'client', name: clientName }),
    clientName,
    otherCa,
    untrustedClient: await maker.issue('untrusted-client', { ca: otherCa, kind: 'client', name: clientName }),
    expiredClient: await maker.issue('expired-client', {
      ca,
      kind: 'client',
      name: clientName,
      validity: { from: '20200101000000Z', until: '20210101000000Z' },
    }),
  };
}

/**
 * MQTT over TLS and over secure WebSocket (config mqtt.tls): the listeners meant for the store
 * network. A connection reaches the broker only once its handshake finished and its client
 * certificate (when asked for) verified; the broker then admits it like a plaintext one (connection
 * caps, packet length reader) and hands it to aedes. Handshake failures and refused certificates
 * are reported with OpenSSL's reason. The certificate files are read again when they change or on
 * `reload()` (SIGHUP), without dropping a connection.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { createSecureContext, createServer as createTlsServer, type SecureContextOptions, type Server as TlsServer, type TLSSocket } from 'node:tls';

import { WebSocketServer, type WebSocket } from 'ws';

import type { Config } from '../../config/index.js';
import { StoreloopError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { clientCertificateRefusal, describeHandshakeError } from './client-certificate.js';

export type TlsConfig = NonNullable<Config['mqtt']['tls']>;

/** A TLS connection refused before it reached the broker: a metric label, logged for the installer. */
export type TlsRefusal = 'tls_handshake_failed' | 'tls_handshake_timeout' | 'client_certificate_rejected';

export const TLS_REFUSAL_TEXT: Record<TlsRefusal, string> = {
  tls_handshake_failed: 'MQTT TLS handshake failed (detail: OpenSSL reason and likely cause); connection closed',
  tls_handshake_timeout: 'MQTT TLS handshake not finished within mqtt.limits.connectTimeoutMs; connection closed',
  client_certificate_rejected: 'MQTT client certificate refused (detail: none sent, expired, not signed by mqtt.tls.caFile); connection closed',
};

/** How long after a change in a certificate file's directory the files are read again (writers replace key and cert one by one). */
const RELOAD_SETTLE_MS = 200;

/** A certificate file that cannot be read or used: the gateway does not start (or keeps the previous certificate on reload). */
export class TlsFileError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, options?: { cause?: unknown }) {
    super('SL_ERR_MQTT_TLS_FILE', message, context, options);
  }
}

/** The PEM contents of the configured files. */
export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
}

function readPem(key: 'certFile' | 'keyFile' | 'caFile', file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsFileError(`mqtt.tls.${key}: cannot read ${file}: ${(err as Error).message}`, { key, file }, { cause: err });
  }
}

/** The TLS options of both listeners, from the files' contents. */
function contextOptions(tls: TlsConfig, credentials: TlsCredentials): SecureContextOptions {
  return {
    cert: credentials.cert,
    key: credentials.key,
    ...(tls.clientCertificates === 'off' || credentials.ca === undefined ? {} : { ca: credentials.ca }),
    minVersion: tls.minVersion,
  };
}

/**
 * Reads the certificate, key and CA files and checks that OpenSSL takes them (PEM, key matching the
 * certificate); throws a TlsFileError naming the key and the file otherwise.
 */
export function readTlsCredentials(tls: TlsConfig): TlsCredentials {
  const credentials: TlsCredentials = {
    cert: readPem('certFile', tls.certFile),
    key: readPem('keyFile', tls.keyFile),
    ca: tls.caFile === undefined ? undefined : readPem('caFile', tls.caFile),
  };
  try {
    createSecureContext(contextOptions(tls, credentials));
  } catch (err) {
    const files = { certFile: tls.certFile, keyFile: tls.keyFile, ...(tls.caFile === undefined ? {} : { caFile: tls.caFile }) };
    throw new TlsFileError(
      `mqtt.tls: OpenSSL refuses the certificate files (${Object.values(files).join(', ')}): ${(err as Error).message} (PEM expected; the key must be the certificate's, unencrypted)`,
      files,
      { cause: err },
    );
  }
  return credentials;
}

function sameCredentials(a: TlsCredentials, b: TlsCredentials): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca === undefined ? b.ca === undefined : b.ca !== undefined && a.ca.equals(b.ca));
}

export interface TlsListenersOptions {
  tls: TlsConfig;
  /** mqtt.limits.connectTimeoutMs: the handshake must finish within it. */
  handshakeTimeoutMs: number;
  /** mqtt.limits.maxConnections: sockets each TLS listener holds at most, handshakes included. */
  maxConnections: number;
  /** ws maxPayload of the secure WebSocket listener (as the plaintext one). */
  maxWebSocketPayloadBytes: number;
  wsPath: string;
  log: Logger;
}

/** Where verified connections go: the broker's admission and aedes. */
export interface TlsConnectionHandlers {
  socket(conn: TLSSocket, address: string): void;
  webSocket(ws: WebSocket, req: IncomingMessage): void;
  refused(reason: TlsRefusal | 'too_many_connections', context: Record<string, unknown>): void;
}

export class TlsListeners {
  private tlsServer: TlsServer | undefined;
  private https: HttpsServer | undefined;
  private wss: WebSocketServer | undefined;
  private credentials: TlsCredentials | undefined;
  private readonly watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  /** Sockets whose handshake has not finished, by peer address and port: destroyed at stop. */
  private readonly handshaking = new Map<string, Socket>();

  constructor(private readonly options: TlsListenersOptions) {}

  /** Reads the certificate files; throws a TlsFileError naming the file that is missing or unusable. */
  load(): void {
    this.credentials = readTlsCredentials(this.options.tls);
  }

  get port(): number | null {
    return this.tlsServer ? ((this.tlsServer.address() as AddressInfo | null)?.port ?? null) : null;
  }

  get wsPort(): number | null {
    return this.https ? ((this.https.address() as AddressInfo | null)?.port ?? null) : null;
  }

  async start(handlers: TlsConnectionHandlers): Promise<void> {
    const { tls } = this.options;
    if (this.credentials === undefined) this.load();
    const serverOptions = {
      ...contextOptions(tls, this.credentials as TlsCredentials), // load() set it or threw
      requestCert: tls.clientCertificates !== 'off',
      // checked after the handshake instead (checkPeer), so a refusal is counted with OpenSSL's reason
      rejectUnauthorized: false,
      handshakeTimeout: this.options.handshakeTimeoutMs,
    };
    this.tlsServer = createTlsServer(serverOptions, (socket) => {
      if (this.checkPeer(socket, 'tls', handlers)) handlers.socket(socket, socket.remoteAddress ?? 'unknown');
    });
    this.guard(this.tlsServer, 'tls', handlers);
    await listen(this.tlsServer, tls.port, tls.host);
    if (tls.wsPort !== null) {
      const path = this.options.wsPath;
      this.https = createHttpsServer(serverOptions, (_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end(`MQTT over secure WebSocket: connect to ${path}\n`);
      });
      // https hands a secure connection to HTTP on this same event (registered first); a refused one is destroyed before a request is read
      this.https.on('secureConnection', (socket: TLSSocket) => this.checkPeer(socket, 'wss', handlers));
      this.guard(this.https, 'wss', handlers);
      this.wss = new WebSocketServer({ server: this.https, path, maxPayload: this.options.maxWebSocketPayloadBytes });
      this.wss.on('connection', (ws, req) => handlers.webSocket(ws, req));
      await listen(this.https, tls.wsPort, tls.host);
    }
    this.watchFiles();
  }

  /** Stops accepting, drops unfinished handshakes and secure WebSockets; aedes closes the established TLS clients. */
  async stop(): Promise<void> {
    for (const watcher of this.watchers.splice(0)) watcher.close();
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    const closing: Promise<void>[] = [];
    if (this.tlsServer) closing.push(closeServer(this.tlsServer));
    if (this.wss) {
      for (const ws of this.wss.clients) ws.terminate();
      this.wss.close();
    }
    if (this.https) closing.push(closeServer(this.https));
    for (const socket of this.handshaking.values()) socket.destroy();
    this.handshaking.clear();
    await Promise.all(closing);
  }

  /**
   * Reads the certificate files again and, when they changed, makes new connections use them (open
   * connections keep theirs). Unreadable or mismatched files are logged and the previous certificate
   * kept. True when the certificate in use changed.
   */
  reload(): boolean {
    const { tls, log } = this.options;
    let next: TlsCredentials;
    try {
      next = readTlsCredentials(tls);
    } catch (err) {
      log.error({ err }, 'TLS certificate files could not be reloaded: the previous certificate stays in use');
      return false;
    }
    if (this.credentials !== undefined && sameCredentials(this.credentials, next)) return false;
    this.credentials = next;
    const options = contextOptions(tls, next);
    this.tlsServer?.setSecureContext(options);
    this.https?.setSecureContext(options);
    log.info({ certFile: tls.certFile }, 'TLS certificate reloaded: new connections use it');
    return true;
  }

  /** Handshake timeout and failures, the socket cap, and the sockets still in their handshake. */
  private guard(server: TlsServer, transport: 'tls' | 'wss', handlers: TlsConnectionHandlers): void {
    server.maxConnections = this.options.maxConnections;
    server.on('drop', (data: { remoteAddress?: string } | undefined) => handlers.refused('too_many_connections', { address: data?.remoteAddress, transport }));
    server.on('connection', (socket: Socket) => {
      const key = peerKey(socket);
      this.handshaking.set(key, socket);
      socket.once('close', () => {
        if (this.handshaking.get(key) === socket) this.handshaking.delete(key);
      });
    });
    // the TLS socket wraps the raw one (same peer address and port): from here its life is the broker's
    server.on('secureConnection', (socket: TLSSocket) => this.handshaking.delete(peerKey(socket)));
    server.on('tlsClientError', (err: Error & { code?: string; reason?: string }, socket: TLSSocket) => {
      const reason: TlsRefusal = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'tls_handshake_timeout' : 'tls_handshake_failed';
      handlers.refused(reason, { address: socket.remoteAddress, transport, detail: describeHandshakeError(err) });
      socket.destroy();
    });
  }

  /** True when the client's certificate may go on (mqtt.tls.clientCertificates); else counts, logs and closes. */
  private checkPeer(socket: TLSSocket, transport: 'tls' | 'wss', handlers: TlsConnectionHandlers): boolean {
    const refusal = clientCertificateRefusal(socket, this.options.tls.clientCertificates);
    if (refusal === null) return true;
    handlers.refused('client_certificate_rejected', { address: socket.remoteAddress, transport, detail: refusal });
    socket.destroy();
    return false;
  }

  /** Reloads when a file in the certificates' directories changes (renames and symlink swaps included). */
  private watchFiles(): void {
    const { tls, log } = this.options;
    const files = [tls.certFile, tls.keyFile, ...(tls.caFile === undefined ? [] : [tls.caFile])];
    for (const dir of new Set(files.map((file) => dirname(file)))) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.reloadSoon());
        watcher.on('error', (err) => log.warn({ err, dir }, 'stopped watching the TLS certificate directory: reload with SIGHUP'));
        this.watchers.push(watcher);
      } catch (err) {
        log.warn({ err, dir, files: files.map((f) => basename(f)) }, 'cannot watch the TLS certificate directory: reload with SIGHUP');
      }
    }
  }

  private reloadSoon(): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      this.reload();
    }, RELOAD_SETTLE_MS);
    this.reloadTimer.unref();
  }
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}

function listen(server: TlsServer | HttpsServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: TlsServer | HttpsServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

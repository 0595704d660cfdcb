/**
 * What the fake HTTP services (fake-crm.ts, fake-hubspot.ts, fake-salesforce.ts, fake-influx-v2.ts)
 * share: a real server on a free loopback port whose stop() ends what is still open, and a request's
 * body read whole.
 */
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackServer {
  port: number;
  /** Runs `beforeClose`, then closes the server and every connection; calling it again gives the same promise. */
  stop(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 on a free port. `beforeClose` lets a fake end what it holds (responses it
 * keeps hanging, timers of delayed answers) before the server closes; every connection is closed
 * too, as the keep-alive sockets clients pool (undici does) would hold close() open otherwise.
 */
export async function listenOnLoopback(handler: RequestListener, beforeClose: () => void = () => {}): Promise<LoopbackServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  let stopped: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    stop: () => {
      stopped ??= new Promise<void>((resolve, reject) => {
        beforeClose();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

/** The request's body, whole. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

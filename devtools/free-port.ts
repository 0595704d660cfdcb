/** Free TCP ports for local processes (influxd, test servers); the OS picks, we only ask. */
import { createServer } from 'node:net';

/**
 * Returns a TCP port that was free on `host` a moment ago: listens on port 0, reads the port the OS
 * chose, closes. Another process may take it before the caller binds, so callers that spawn servers
 * should retry on "address in use".
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port of a listener on ${host}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

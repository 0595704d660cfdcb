/**
 * The kernel's view of a server's connections: ESTABLISHED IPv4 sockets whose local port is the
 * server's, from /proc/net/tcp. The same count for every server, whatever it says about itself.
 */
import { readFile } from 'node:fs/promises';

/** `st` column value of an ESTABLISHED socket (include/net/tcp_states.h: TCP_ESTABLISHED = 1). */
const TCP_ESTABLISHED = '01';

/** Established connections to local `port` (server side only: the client ends have ephemeral local ports). */
export async function countEstablished(port: number, file = '/proc/net/tcp'): Promise<number> {
  const text = await readFile(file, 'utf8');
  const localSuffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let count = 0;
  // each line: "  sl  local_address rem_address   st ...", addresses as HEXIP:HEXPORT
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(localSuffix) && fields[3] === TCP_ESTABLISHED) count++;
  }
  return count;
}

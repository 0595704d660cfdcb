import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { countEstablished } from './tcp-sockets.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
let dir: string | undefined;

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('countEstablished', () => {
  it('counts the server ends of established connections on the port only', async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'tcp-sockets-'));
    const file = join(dir, 'tcp');
    // port 1883 = 0x075B; 0A is LISTEN, 06 TIME_WAIT; the client ends have the port as remote
    const rows = [
      '   0: 0100007F:075B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1',
      '   1: 0100007F:075B 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2',
      '   2: 0100007F:9C40 0100007F:075B 01 00000000:00000000 00:00000000 00000000     0        0 3',
      '   3: 0100007F:075B 0100007F:9C41 01 00000000:00000000 00:00000000 00000000     0        0 4',
      '   4: 0100007F:075B 0100007F:9C42 06 00000000:00000000 00:00000000 00000000     0        0 5',
      '   5: 0100007F:175B 0100007F:9C43 01 00000000:00000000 00:00000000 00000000     0        0 6',
    ];
    await writeFile(file, [HEADER, ...rows, ''].join('\n'));
    expect(await countEstablished(1883, file)).toBe(2);
  });
});

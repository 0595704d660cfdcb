/**
 * Setup file of the unit project (vitest.config.ts). A unit test starts no process and opens no
 * socket: no TCP or UDP (MQTT, HTTP, influxd), no Unix socket (D-Bus). Anything that tries fails
 * at once, naming the rule, so which project a file belongs to is checked rather than trusted.
 * Worker threads and files in a temp dir stay allowed.
 *
 * Temp dirs go to memory (/dev/shm) when it has room: no unit test can tell an fsync that reached
 * a disk from one that did not (the kill -9 and power-cut proofs are integration tests), so waiting
 * for the disk only made the fast tests slow (each route test's SQLite stores and event log: about
 * 30 of its 75 ms).
 */
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { statfsSync } from 'node:fs';

function refuse(what: string): never {
  throw new Error(`a unit test ${what}: unit tests start no process and open no socket; name the file *.int.test.ts to make it an integration test`);
}

const processStarters = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
for (const name of processStarters) {
  Object.defineProperty(childProcess, name, { value: () => refuse(`called child_process.${name}()`), configurable: true, writable: true });
}
// the named ESM exports of node:child_process follow the patched CommonJS object
syncBuiltinESMExports();

net.Server.prototype.listen = function listen(): never {
  return refuse('listened on a socket');
};
net.Socket.prototype.connect = function connect(): never {
  return refuse('connected a socket');
};
dgram.Socket.prototype.bind = function bind(): never {
  return refuse('bound a UDP socket');
};

/** Free bytes a memory-backed temp dir must have: the unit tests' files are small, two workers write at once. */
const MEMORY_TMP_MIN_FREE_BYTES = 256 * 1024 ** 2;

function memoryTmpDir(): string | undefined {
  try {
    const fs = statfsSync('/dev/shm');
    return fs.bavail * fs.bsize >= MEMORY_TMP_MIN_FREE_BYTES ? '/dev/shm' : undefined;
  } catch {
    return undefined; // no /dev/shm (not Linux): the system's temp dir
  }
}

// os.tmpdir() reads TMPDIR at every call
const memory = memoryTmpDir();
if (memory !== undefined) process.env['TMPDIR'] = memory;

/**
 * The probe capture's child-process plumbing: waiting for tshark and dumpcap to exit, letting a
 * reader blocked on the FIFO go, and keeping the few stderr lines that explain a failure (MAC
 * addresses masked).
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';

import { maskMacAddresses } from '../../protocol/index.js';

/** What to run when a capture tool is missing. */
export const INSTALL_HINT: Record<'tshark' | 'dumpcap', string> = {
  tshark: 'install it with: apt-get install -y tshark',
  dumpcap: 'it comes with tshark (Debian package wireshark-common): apt-get install -y tshark',
};
/** tshark and dumpcap chatter on stderr that says nothing about a failure. */
const STDERR_NOISE = [
  /^Running as user/,
  /^Capturing on/,
  /^File: /,
  /^Packets (captured|received)/,
  /^\d+ packets? captured/,
  /^\s*\*\* \(/,
  /^tshark:\s*$/,
  /^dumpcap:\s*$/,
  /^\s*$/,
];
const STDERR_KEPT = 3;

export function whenExited(child: ChildProcess, then: () => void): void {
  if (child.exitCode !== null || child.signalCode !== null) then();
  else child.once('exit', then);
}

/**
 * Opens and closes the FIFO's write end without blocking: a reader blocked in open() is let through
 * and reads EOF; a reader already reading sees EOF once no writer is left. Without a reader, the open
 * fails (ENXIO) and there is nothing to release.
 */
export function releaseFifoReader(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // no reader waiting
  }
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

export function keepStderr(kept: string[], tool: string, line: string): void {
  if (STDERR_NOISE.some((re) => re.test(line))) return;
  kept.push(`${tool}: ${maskMacAddresses(line.replace(/^(tshark|dumpcap):\s*/, '')).slice(0, 200)}`);
  if (kept.length > STDERR_KEPT) kept.shift();
}

/**
 * Crash safety with a real process: a child appends continuously and prints each seq once its
 * append resolved; it is SIGKILLed after a count of appends that differs per round, and every
 * printed seq must then be readable with its payload. The child runs the spool from the run's build
 * (test/helpers/test-build.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { describe, expect, it, onTestFinished } from 'vitest';

import { createLogger } from '../logger.js';
import { testBuild } from '../../test/helpers/test-build.js';
import { Spool } from './spool.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Appends each round lets the child make before the kill: a different moment each round, the same in every run. */
const KILL_AFTER_APPENDS = [300, 2_417, 1_133, 3_809];

const spoolModuleUrl = pathToFileURL(join(testBuild().dist, 'lib', 'spool', 'spool.js')).href;

interface ChildOutput {
  appended: Map<number, string>;
  /** Highest seq the child called ack() with (it may have been killed before it resolved). */
  ackRequestedUpto: number;
  /** Highest seq whose ack() resolved. */
  ackResolvedUpto: number;
}

/**
 * Runs the child until it has printed at least `minAppends` appended seqs (and, with `minAcks`,
 * that many resolved acks), then SIGKILLs it.
 */
async function runAndKill(dir: string, tag: string, minAppends: number, minAcks = 0): Promise<ChildOutput> {
  const child = spawn(process.execPath, [join(HERE, 'crash-child.mjs'), spoolModuleUrl, dir, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const output: ChildOutput = { appended: new Map(), ackRequestedUpto: 0, ackResolvedUpto: 0 };
  let stderr = '';
  let partial = '';
  let appendsSeen = 0;
  let acksSeen = 0;
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // 'close', not 'exit': every line already in the pipe has been read by then
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('close', (code, signal) => done({ code, signal })));
  await new Promise<void>((done, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      // a line without its newline may be cut by the kill: only whole lines count
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, seq, payload] = line.split(' ');
        if (kind === 'a' && seq !== undefined && payload !== undefined) {
          output.appended.set(Number(seq), Buffer.from(payload, 'base64').toString());
          appendsSeen += 1;
        } else if (kind === 'K' && seq !== undefined) {
          output.ackRequestedUpto = Math.max(output.ackRequestedUpto, Number(seq));
        } else if (kind === 'k' && seq !== undefined) {
          output.ackResolvedUpto = Math.max(output.ackResolvedUpto, Number(seq));
          acksSeen += 1;
        }
      }
      if (appendsSeen >= minAppends && acksSeen >= minAcks && child.kill('SIGKILL')) done();
    });
    void exited.then(({ code }) => fail(new Error(`crash child exited on its own with ${code}: ${stderr}`)));
  });
  const { signal } = await exited;
  expect(signal).toBe('SIGKILL');
  return output;
}

describe('Spool crash safety', () => {
  it('keeps every append the killed child saw resolve, over several kill -9 rounds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-spool-crash-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const appended = new Map<number, string>();
    let ackRequestedUpto = 0;
    let ackResolvedUpto = 0;

    for (const [round, appends] of KILL_AFTER_APPENDS.entries()) {
      // the last round runs until the drainer has acked at least once, so acks are crashed into too
      const output = await runAndKill(dir, `round-${round}`, appends, round === KILL_AFTER_APPENDS.length - 1 ? 1 : 0);
      for (const [seq, payload] of output.appended) {
        expect(appended.has(seq), `seq ${seq} handed out twice`).toBe(false);
        appended.set(seq, payload);
      }
      ackRequestedUpto = Math.max(ackRequestedUpto, output.ackRequestedUpto);
      ackResolvedUpto = Math.max(ackResolvedUpto, output.ackResolvedUpto);

      const spool = new Spool({ log: createLogger('silent'), dir, quotaBytes: 64 * 1024 * 1024, segmentBytes: 16 * 1024 });
      const report = await spool.open();
      // kill -9 keeps the page cache, so every complete write is there; only a write cut mid-way can tear
      for (const tail of report.tornTails) expect(tail.reason).toMatch(/^(truncated-header|truncated-payload)$/);
      const records = await spool.read(0, 1_000_000, 1 << 30);
      const onDisk = new Map(records.map((record) => [record.seq, record.payload.toString()]));
      expect(records.map((record) => record.seq)).toEqual([...onDisk.keys()].sort((a, b) => a - b));

      // a resolved append is on disk unless the child asked to ack it
      const missing = [...appended.keys()].filter((seq) => seq > ackRequestedUpto && !onDisk.has(seq));
      expect(missing, `round ${round}: resolved appends missing after kill -9`).toEqual([]);
      // a resolved ack is durable: nothing it covered is pending again
      expect(records.filter((record) => record.seq <= ackResolvedUpto).map((record) => record.seq)).toEqual([]);
      for (const [seq, payload] of appended) {
        if (onDisk.has(seq)) expect(onDisk.get(seq), `payload of seq ${seq}`).toBe(payload);
      }
      for (const payload of onDisk.values()) expect(JSON.parse(payload)).toMatchObject({ tag: expect.stringMatching(/^(round-\d+|probe)$/) });
      const firstUnacked = Math.min(...[...appended.keys()].filter((seq) => seq > ackRequestedUpto));
      expect(spool.firstPendingSeq()).toBeLessThanOrEqual(firstUnacked);

      // seqs go on after every seq the child was given
      const [probeSeq] = await spool.append([Buffer.from(JSON.stringify({ tag: 'probe', round }))]);
      expect(probeSeq).toBeGreaterThan(Math.max(...appended.keys()));
      appended.set(probeSeq as number, JSON.stringify({ tag: 'probe', round }));
      await spool.close();
    }
    expect(ackResolvedUpto, 'the child drained and acked while it ran').toBeGreaterThan(0);
  });
});

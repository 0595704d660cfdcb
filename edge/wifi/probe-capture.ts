/**
 * Wifi presence from 802.11 probe requests, read through tshark's field output and pseudonymised
 * line by line (tshark-fields.ts), batched per interval of capture time (probe-batcher.ts).
 *
 * Inputs:
 * - `{ file }`: `tshark -r <file>`; payloads are emitted in capture-time order with the capture's
 *   times, and the source finishes at the end of the file (`finished()`).
 * - `{ interface }`: a monitor-mode interface (`iw dev wlan1 set type monitor`), captured as
 *   `dumpcap -i <iface> -f 'type mgt subtype probe-req' -w <fifo>` and `tshark -r <fifo>`, the FIFO
 *   in a private 0700 directory under the temp dir. Not `tshark -i`: it spools every frame,
 *   addresses and SSIDs included, to a temporary file that grows as long as the capture runs. Not a
 *   Node pipe either: Node's child stdio are sockets, which `tshark -r -` refuses. dumpcap needs
 *   root or the capabilities Debian's wireshark-common sets for members of the `wireshark` group.
 *   When either process dies (interface unplugged), the other is stopped, the source reports `down`
 *   and the pipeline is restarted with backoff; after a restart it is `degraded` until a frame arrives.
 *
 * start() never rejects for a missing or failing tshark: the source reports `down` in health()
 * (with the apt-get line to run) and the agent's other sources keep going.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { z } from 'zod';

import { maskMacAddresses } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import type { Pseudonymiser } from '../pseudonymise/pseudonymiser.js';
import type { EdgeSource, SourceHealth, SourcePayload } from '../types.js';
import { WifiSourceError } from './errors.js';
import { ProbeBatcher } from './probe-batcher.js';
import { SourceIdSchema } from './source-id.js';
import { exitOf, INSTALL_HINT, keepStderr, releaseFifoReader, whenExited } from './capture-processes.js';
import { PROBE_LINE_REJECTIONS, dumpcapArgs, parseProbeLine, tsharkFieldArgs, type ProbeLineRejection } from './tshark-fields.js';

/** The settings a config file can hold; validated by the constructor, strictly (a misspelt key is refused). */
export const ProbeCaptureSettingsSchema = z.strictObject({
  name: z.string().min(1).default('probe-capture'),
  sourceId: SourceIdSchema,
  input: z.union([z.strictObject({ file: z.string().min(1) }), z.strictObject({ interface: z.string().min(1) })]),
  tsharkPath: z.string().min(1).default('tshark'),
  dumpcapPath: z.string().min(1).default('dumpcap'),
  intervalMs: z.number().int().min(100).max(60_000).default(1000),
  /** Live: an interval is sent once it has ended and no frame arrived for this long. */
  quietFlushMs: z.number().int().min(10).max(60_000).default(500),
  /** Live: health turns degraded after this long without a probe request. */
  staleAfterMs: z
    .number()
    .int()
    .min(1000)
    .default(5 * 60_000),
  restartMinMs: z.number().int().min(10).default(1000),
  restartMaxMs: z.number().int().min(10).default(60_000),
});
export type ProbeCaptureSettings = z.input<typeof ProbeCaptureSettingsSchema>;

export interface ProbeCaptureOptions extends ProbeCaptureSettings {
  pseudonymiser: Pseudonymiser;
  log: Logger;
  now?: () => number;
}

export interface ProbeCaptureStats {
  linesRead: number;
  framesAccepted: number;
  rejected: Record<ProbeLineRejection, number>;
  /** Frames whose interval had been sent already; they went out in a payload of their own. */
  lateFrames: number;
  observationsEmitted: number;
  payloadsEmitted: number;
  emitFailures: number;
  restarts: number;
  /** Exit code of tshark for a finished file, else undefined. */
  exitCode?: number | null;
}

const KILL_GRACE_MS = 2000;

/** Builds a probe-request source (the constructor validates and stores; start() spawns tshark). */
export function createProbeCapture(options: ProbeCaptureOptions): ProbeCapture {
  return new ProbeCapture(options);
}

/** After dumpcap exits, how long tshark may go on printing what dumpcap wrote before it is stopped. */
const TSHARK_DRAIN_MS = 2_000;

export class ProbeCapture implements EdgeSource {
  readonly name: string;
  private readonly settings: z.infer<typeof ProbeCaptureSettingsSchema>;
  private readonly log: Logger;
  private readonly pseudonymiser: Pseudonymiser;
  private readonly now: () => number;
  private readonly batcher: ProbeBatcher;
  private readonly counters: ProbeCaptureStats;
  private emit: ((message: SourcePayload) => void) | undefined;
  private running = false;
  private children: ChildProcess[] = [];
  private pipelineDone: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs: number;
  private lastArrivalMs = 0;
  private fifoDir: string | undefined;
  private startedAt: number | undefined;
  private lastItemAt: number | undefined;
  private lastFrameAt: number | undefined;
  private state: { state: SourceHealth['state']; detail: string } = { state: 'down', detail: 'not started' };
  private resolveFinished: () => void = () => undefined;
  private readonly finishedPromise: Promise<void>;

  constructor(options: ProbeCaptureOptions) {
    const { pseudonymiser: _p, log: _l, now: _n, ...settings } = options;
    const parsed = ProbeCaptureSettingsSchema.safeParse(settings);
    if (!parsed.success) {
      // an unknown key's name is quoted in the message: mask it in case it is an address
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${maskMacAddresses(i.message)}`).join('; ');
      throw new WifiSourceError('SL_ERR_PROBE_CONFIG', `invalid probe capture settings: ${problems}`, {
        context: { paths: parsed.error.issues.map((i) => i.path.join('.')) },
      });
    }
    if (options.pseudonymiser.mode === 'consented') {
      throw new WifiSourceError(
        'SL_ERR_PROBE_CONFIG',
        "probe requests come from every passer-by: use a 'daily' or 'short-lived' pseudonymiser, not 'consented'",
      );
    }
    this.settings = parsed.data;
    this.name = this.settings.name;
    this.log = options.log.child({ module: 'probe-capture', source: this.name });
    this.now = options.now ?? Date.now;
    this.batcher = new ProbeBatcher(this.settings.sourceId, this.settings.intervalMs);
    this.restartDelayMs = this.settings.restartMinMs;
    this.counters = {
      linesRead: 0,
      framesAccepted: 0,
      rejected: zeroCounts(PROBE_LINE_REJECTIONS),
      lateFrames: 0,
      observationsEmitted: 0,
      payloadsEmitted: 0,
      emitFailures: 0,
      restarts: 0,
    };
    this.finishedPromise = new Promise((resolve) => (this.resolveFinished = resolve));
    this.pseudonymiser = options.pseudonymiser;
  }

  private get isFile(): boolean {
    return 'file' in this.settings.input;
  }

  /** Spawns the capture; resolves once it runs or has failed (see health()). */
  async start(emit: (message: SourcePayload) => void): Promise<void> {
    this.emit = emit;
    this.running = true;
    this.startedAt = this.now();
    this.log.info({ input: this.isFile ? 'file' : 'interface', intervalMs: this.settings.intervalMs }, 'probe capture starting');
    if (!this.isFile) this.flushTimer = setInterval(() => this.flushQuiet(), Math.min(this.settings.quietFlushMs, this.settings.intervalMs));
    await this.launch();
  }

  /** Resolves when a file has been read to its end (or failed), or when stop() has finished. */
  finished(): Promise<void> {
    return this.finishedPromise;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.flushTimer);
    clearTimeout(this.restartTimer);
    for (const child of this.children) child.kill('SIGTERM');
    const killer = setTimeout(() => this.children.forEach((c) => c.kill('SIGKILL')), KILL_GRACE_MS);
    await this.pipelineDone;
    clearTimeout(killer);
    this.deliver(this.batcher.flushAll());
    if (this.fifoDir !== undefined) rmSync(this.fifoDir, { recursive: true, force: true });
    this.fifoDir = undefined;
    this.state = { state: 'down', detail: 'stopped' };
    this.log.info({ stats: this.stats() }, 'probe capture stopped');
    this.resolveFinished();
  }

  stats(): ProbeCaptureStats {
    return structuredClone(this.counters);
  }

  health(): SourceHealth {
    const base = { name: this.name, ...(this.lastItemAt === undefined ? {} : { lastItemAt: this.lastItemAt }) };
    const summary = `${this.counters.framesAccepted} probe requests, ${this.counters.observationsEmitted} observations in ${this.counters.payloadsEmitted} messages`;
    if (this.state.state === 'ok' && !this.isFile && this.running) {
      const quietMs = this.now() - (this.lastFrameAt ?? this.startedAt ?? this.now());
      if (quietMs > this.settings.staleAfterMs)
        return { ...base, state: 'degraded', detail: `no probe request for ${Math.round(quietMs / 60_000)} min: is the interface in monitor mode? ${summary}` };
    }
    return { ...base, state: this.state.state, detail: `${this.state.detail}; ${summary}` };
  }

  private async launch(restartReason?: string): Promise<void> {
    const input = this.settings.input;
    const stderr: string[] = [];
    let dumpcap: ChildProcess | undefined;
    let read: string;
    if ('interface' in input) {
      const fifo = this.ensureFifo();
      if (fifo === undefined) return this.failed();
      dumpcap = await this.spawnTool('dumpcap', this.settings.dumpcapPath, dumpcapArgs(input.interface, fifo), ['ignore', 'ignore', 'pipe'], stderr);
      if (dumpcap === undefined) return this.failed();
      read = fifo;
    } else {
      read = input.file;
    }
    const tshark = await this.spawnTool('tshark', this.settings.tsharkPath, tsharkFieldArgs(read), ['ignore', 'pipe', 'pipe'], stderr);
    if (tshark === undefined) return this.failed();
    const running = 'file' in input ? `reading ${input.file}` : `capturing on ${input.interface}`;
    this.state =
      restartReason === undefined
        ? { state: 'ok', detail: running }
        : { state: 'degraded', detail: `${running}, no frame yet since restart after: ${restartReason}` };
    // A FIFO end that dies leaves the other blocked in open() or waiting: stop the pair together. When
    // dumpcap's feed ends, tshark first gets TSHARK_DRAIN_MS to print what dumpcap wrote last and exit on
    // EOF (stopping it at once lost the last frames); when dumpcap fails, or tshark ends, the other is
    // stopped at once.
    if (dumpcap !== undefined) {
      const writer = dumpcap;
      whenExited(writer, () => {
        if (writer.exitCode !== 0) {
          tshark.kill('SIGKILL'); // dumpcap failed: nothing more will come, and its reason is the one to report
          return;
        }
        // the feed ended: tshark reads to EOF (let through if it was still waiting in open()), then exits
        releaseFifoReader(read);
        const stop = setTimeout(() => tshark.kill('SIGKILL'), TSHARK_DRAIN_MS);
        stop.unref();
        whenExited(tshark, () => clearTimeout(stop));
      });
      whenExited(tshark, () => writer.kill('SIGTERM'));
    }
    const lines = createInterface({ input: tshark.stdout as NodeJS.ReadableStream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => this.onLine(line));
    const exits = Promise.all(this.children.map((child) => exitOf(child)));
    const drained = new Promise<void>((resolve) => lines.once('close', resolve));
    this.pipelineDone = Promise.all([exits, drained]).then(([codes]) => {
      this.onPipelineExit(dumpcap === undefined ? { tshark: codes[0] } : { dumpcap: codes[0], tshark: codes[1] }, stderr);
    });
  }

  /** The FIFO between dumpcap and tshark, in a private directory; undefined (health down) when it cannot be made. */
  private ensureFifo(): string | undefined {
    if (this.fifoDir === undefined) this.fifoDir = mkdtempSync(join(tmpdir(), 'storeloop-probes-'));
    const fifo = join(this.fifoDir, 'probes.pcapng');
    const made = spawnSync('mkfifo', ['-m', '600', fifo], { encoding: 'utf8' });
    if (made.status === 0 || /exists/i.test(made.stderr)) return fifo;
    this.state = { state: 'down', detail: `cannot make the capture FIFO: ${made.error?.message ?? made.stderr.trim()}` };
    this.log.error({ detail: this.state.detail }, 'probe capture cannot start');
    return undefined;
  }

  /** Spawns one tool; undefined when it cannot start (missing binary), with health set to say why. */
  private spawnTool(tool: 'tshark' | 'dumpcap', path: string, args: string[], stdio: StdioOptions, stderr: string[]): Promise<ChildProcess | undefined> {
    return new Promise((resolve) => {
      const child = spawn(path, args, { stdio });
      child.once('error', (err: NodeJS.ErrnoException) => {
        const missing = err.code === 'ENOENT';
        const detail = missing ? `${tool} not found at '${path}': ${INSTALL_HINT[tool]}` : `${tool} cannot start: ${err.code ?? err.message}`;
        this.state = { state: 'down', detail };
        this.log.error({ tool, code: err.code, hint: missing ? INSTALL_HINT[tool] : undefined }, 'probe capture tool cannot start');
        resolve(undefined);
      });
      child.once('spawn', () => {
        this.children.push(child);
        if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => keepStderr(stderr, tool, line));
        resolve(child);
      });
    });
  }

  private onLine(line: string): void {
    this.counters.linesRead += 1;
    this.lastArrivalMs = Date.now();
    // the raw address stays inside parseProbeLine: only its pseudonym comes back
    const parsed = parseProbeLine(line, this.pseudonymiser);
    if (!parsed.ok) {
      this.counters.rejected[parsed.reason] += 1;
      this.log.debug({ reason: parsed.reason }, 'probe line rejected');
      return;
    }
    this.counters.framesAccepted += 1;
    this.lastFrameAt = this.now();
    if (this.state.state === 'degraded') this.state = { state: 'ok', detail: this.state.detail.replace(/, no frame yet since restart after: .*$/, '') };
    this.restartDelayMs = this.settings.restartMinMs;
    if (this.batcher.add(parsed.frame).late) this.counters.lateFrames += 1;
    // one interval of slack for frames out of capture order
    this.deliver(this.batcher.flushUntil(this.batcher.watermarkMs - this.settings.intervalMs));
  }

  /** Live: sends intervals that have ended once the input has been quiet for quietFlushMs. */
  private flushQuiet(): void {
    const wallMs = Date.now();
    if (this.batcher.pendingIntervals === 0 || wallMs - this.lastArrivalMs < this.settings.quietFlushMs) return;
    this.deliver(this.batcher.flushUntil(wallMs - this.settings.quietFlushMs));
  }

  private deliver(payloads: SourcePayload[]): void {
    if (payloads.length === 0) return;
    for (const payload of payloads) {
      try {
        this.emit?.(payload);
        this.counters.payloadsEmitted += 1;
        this.counters.observationsEmitted += payload.kind === 'wifi' ? payload.payload.observations.length : 0;
      } catch (err) {
        this.counters.emitFailures += 1;
        this.log.error({ err, ts: payload.payload.ts }, 'probe payload not taken by the agent');
      }
    }
    this.lastItemAt = this.now();
    this.log.debug({ payloads: payloads.length, observations: this.counters.observationsEmitted }, 'probe intervals sent');
  }

  private onPipelineExit(codes: Record<string, number | null | undefined>, stderr: string[]): void {
    this.children = [];
    this.deliver(this.batcher.flushAll());
    if (!this.running) return;
    // null: ended by a signal, i.e. stopped because its partner ended
    const failed = Object.entries(codes).filter(([, code]) => code !== 0 && code !== null);
    const why = stderr.length > 0 ? `: ${stderr.join(' | ')}` : '';
    if (this.isFile) {
      this.counters.exitCode = codes.tshark ?? null;
      this.running = false;
      clearInterval(this.flushTimer);
      if (codes.tshark === 0) {
        this.state = { state: 'ok', detail: 'finished reading the file' };
        this.log.info({ stats: this.stats() }, 'probe capture file read');
      } else {
        this.state = { state: 'down', detail: `tshark exited with code ${String(codes.tshark)}${why}` };
        this.log.error({ codes, stderr }, 'probe capture failed');
      }
      this.resolveFinished();
      return;
    }
    const tools = failed.length > 0 ? failed.map(([tool, code]) => `${tool} exited with code ${String(code)}`).join(', ') : 'capture ended';
    this.scheduleRestart(`${tools}${why}`);
  }

  private failed(): void {
    for (const child of this.children) child.kill('SIGTERM');
    this.children = [];
    if (this.isFile) {
      this.running = false;
      this.resolveFinished();
      return;
    }
    this.scheduleRestart(this.state.detail);
  }

  private scheduleRestart(reason: string): void {
    const delayMs = this.restartDelayMs;
    this.restartDelayMs = Math.min(delayMs * 2, this.settings.restartMaxMs);
    this.state = { state: 'down', detail: `${reason}; restarting in ${Math.ceil(delayMs / 1000)} s` };
    this.log.error({ reason, delayMs }, 'probe capture down, restarting');
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.counters.restarts += 1;
      void this.launch(reason);
    }, delayMs);
  }
}

function zeroCounts<K extends string>(reasons: Record<K, string>): Record<K, number> {
  return Object.fromEntries(Object.keys(reasons).map((k) => [k, 0])) as Record<K, number>;
}

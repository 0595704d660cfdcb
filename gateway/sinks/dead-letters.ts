/**
 * What a sink's destination refuses for good (e.g. an InfluxDB field type conflict) is set aside here
 * with the server's reason: appended to `<state dir>/dead-letters.jsonl` (fsynced) and kept in memory for
 * GET /api/v1/dead-letters. They never block the queue and are never retried by themselves.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface DeadLetter {
  time: string;
  /** The sink that refused it (e.g. `influx`). */
  sink: string;
  /** The log seq of the record it came from. */
  seq: number;
  store: string;
  kind: string;
  /** The refused line protocol (pseudonymous ids only; raw identifiers never reach a line). */
  line: string;
  /** HTTP status and the server's message. */
  status: number | null;
  error: string;
}

export class DeadLetterStore {
  private file: FileHandle | undefined;
  private readonly recent: DeadLetter[] = [];
  private total = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly keep = 500,
  ) {}

  async open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.file = await open(this.path, 'a');
  }

  /** Appends and fsyncs; resolves once the letters are on disk. */
  add(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return Promise.resolve();
    for (const letter of letters) {
      this.recent.unshift(letter);
      this.total++;
    }
    if (this.recent.length > this.keep) this.recent.length = this.keep;
    const file = this.file;
    const text = letters.map((l) => `${JSON.stringify(l)}\n`).join('');
    // appends are chained so lines of two calls never interleave
    this.chain = this.chain.then(async () => {
      if (!file) return;
      await file.write(text);
      await file.datasync();
    });
    return this.chain;
  }

  list(limit = this.keep): DeadLetter[] {
    return this.recent.slice(0, limit);
  }

  get count(): number {
    return this.total;
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    await this.file?.close();
    this.file = undefined;
  }
}

// Child process of spool-crash.int.test.ts: appends to a spool as fast as it can, prints
// `a <seq> <payload base64>` only after append() resolved (the record is fsynced), drains and acks
// old records, printing `K <seq>` before calling ack() and `k <seq>` after it resolved. The test
// SIGKILLs it at a random moment. Every line is awaited until it is in the pipe before the next
// step runs: process.stdout on a pipe is non-blocking, so once the test reads slower than the child
// writes, written lines queue inside the child and a kill -9 loses them (a lost `K` line made a
// durable ack look like lost appends).
// argv: <url of the compiled spool.js> <spool dir> <worker tag>
import { pino } from 'pino';

const [moduleUrl, dir, tag] = process.argv.slice(2);
const { Spool, SpoolFullError } = await import(moduleUrl);

const log = pino({ level: 'warn' }, pino.destination(2));
const spool = new Spool({ dir, quotaBytes: 8 * 1024 * 1024, segmentBytes: 16 * 1024, log });
const report = await spool.open();

/** Writes `text` to stdout and resolves once it has left the process (is in the pipe). */
const say = (text) => new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));

await say(`o ${report.pendingRecords} ${report.tornTails.length}\n`);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function payloadOf(worker, index, part) {
  return Buffer.from(JSON.stringify({ tag, worker, index, part, pad: 'z'.repeat((index * 7 + part) % 300) }));
}

async function appender(worker) {
  for (let index = 0; ; index += 1) {
    const payloads = Array.from({ length: 1 + (index % 3) }, (_, part) => payloadOf(worker, index, part));
    let seqs;
    try {
      seqs = await spool.append(payloads);
    } catch (err) {
      if (!(err instanceof SpoolFullError)) throw err;
      await sleep(5);
      continue;
    }
    await say(seqs.map((seq, part) => `a ${seq} ${payloads[part].toString('base64')}\n`).join(''));
  }
}

async function drainer() {
  for (;;) {
    const first = spool.firstPendingSeq();
    if (first === null || spool.stats().pendingRecords < 500) {
      await sleep(2);
      continue;
    }
    const records = await spool.read(first, 200, 1 << 20);
    const last = records.at(-1);
    if (last === undefined) continue;
    await say(`K ${last.seq}\n`);
    await spool.ack(last.seq);
    await say(`k ${last.seq}\n`);
  }
}

for (let worker = 0; worker < 8; worker += 1) void appender(worker);
void drainer();

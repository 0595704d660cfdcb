/**
 * What the runner and its child processes (publishers, the subscriber, idle clients, attackers) say to each other over the
 * Node IPC channel. Children parse with these schemas; the runner parses what children report.
 */
import { z } from 'zod';

import type { HistogramData } from './percentiles.js';

const HistogramSchema: z.ZodType<HistogramData> = z.object({
  count: z.number(),
  minUs: z.number(),
  maxUs: z.number(),
  sumUs: z.number(),
  buckets: z.array(z.tuple([z.number(), z.number()])),
});

/** Epoch ms boundaries of one run, shared by every child so they start and measure together. */
export const RunWindowSchema = z.object({
  /** Publishing starts. */
  startAtMs: z.number(),
  /** Acks (deliveries) from here on count; the time before is warm-up. */
  measureFromMs: z.number(),
  /** Publishing stops and measuring ends; what is still in flight drains afterwards. */
  endAtMs: z.number(),
});
export type RunWindow = z.infer<typeof RunWindowSchema>;

export const ParentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), window: RunWindowSchema }),
  /** Subscriber, idle client and attacker: report now and exit. */
  z.object({ type: z.literal('stop') }),
]);
export type ParentMessage = z.infer<typeof ParentMessageSchema>;

export const PublisherResultSchema = z.object({
  publisher: z.number().int(),
  sent: z.number().int(),
  acked: z.number().int(),
  ackedInWindow: z.number().int(),
  /** Messages whose (scheduled) send time fell in the measured interval: the ones `puback` holds. */
  scheduledInWindow: z.number().int(),
  /** Open-loop: messages due by the end but not sent (timer granularity; many when the in-flight cap was reached). */
  missed: z.number().int(),
  /** Still unacknowledged when the drain timed out (or the connection closed). */
  unacked: z.number().int(),
  drainMs: z.number(),
  disconnects: z.number().int(),
  errorCount: z.number().int(),
  errors: z.array(z.string()),
  /** PUBACK minus the message's scheduled send time (closed-loop: its send time). */
  puback: HistogramSchema,
  /** Actual minus scheduled send time (open-loop; empty for closed-loop). */
  sendLag: HistogramSchema,
});
export type PublisherResult = z.infer<typeof PublisherResultSchema>;

export const SubscriberResultSchema = z.object({
  received: z.number().int(),
  receivedInWindow: z.number().int(),
  disconnects: z.number().int(),
  errorCount: z.number().int(),
  errors: z.array(z.string()),
  /** publish → delivery, from the send time the publisher put in each message id. */
  delivery: HistogramSchema,
});
export type SubscriberResult = z.infer<typeof SubscriberResultSchema>;

export const IdleClientResultSchema = z.object({
  wanted: z.number().int(),
  /** CONNACK with return code 0 received. */
  connected: z.number().int(),
  /** Accepted and still open when the runner said stop. */
  open: z.number().int(),
  refused: z.number().int(),
  failed: z.number().int(),
  /** Accepted connections the server (or the network) closed before stop. */
  closedByServer: z.number().int(),
  pingreqs: z.number().int(),
  pingresps: z.number().int(),
  /** Open connections that had at least one PINGRESP by stop. */
  pinged: z.number().int(),
  errors: z.array(z.string()),
  /** TCP connect → CONNACK. */
  connack: HistogramSchema,
});
export type IdleClientResult = z.infer<typeof IdleClientResultSchema>;

export const AttackerResultSchema = z.object({
  attack: z.string(),
  /** Connections the attacker opened (TCP connect completed). */
  connections: z.number().int(),
  /** What it saw, by outcome (e.g. `connack 4`, `closed by the server`, `puback`): counts. */
  outcomes: z.record(z.string(), z.number().int()),
  /** Logins the gateway accepted that it should have refused (a CONNACK 0 to a wrong secret): must stay 0. */
  breaches: z.number().int(),
  errorCount: z.number().int(),
  errors: z.array(z.string()),
});
export type AttackerResult = z.infer<typeof AttackerResultSchema>;

export const ChildMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** Running total of acks (publishers), deliveries (subscriber) or open connections (idle client). */
  z.object({ type: z.literal('progress'), count: z.number() }),
  z.object({ type: z.literal('publisher-result'), result: PublisherResultSchema }),
  z.object({ type: z.literal('subscriber-result'), result: SubscriberResultSchema }),
  z.object({ type: z.literal('idle-result'), result: IdleClientResultSchema }),
  z.object({ type: z.literal('attacker-result'), result: AttackerResultSchema }),
  z.object({ type: z.literal('failed'), message: z.string() }),
]);
export type ChildMessage = z.infer<typeof ChildMessageSchema>;

/** Sends a message to the parent; a child without an IPC channel was started wrongly. */
export function sendToParent(message: ChildMessage, onSent?: () => void): void {
  if (process.send === undefined) throw new Error('no IPC channel: start this through bench/run.js');
  process.send(message, undefined, {}, () => onSent?.());
}

/** Parses a message from the parent; a malformed one is a bug in the runner, so it throws. */
export function parseParentMessage(raw: unknown): ParentMessage {
  return ParentMessageSchema.parse(raw);
}

/** At most this many error messages travel back per child; the rest are only counted. */
export const MAX_REPORTED_ERRORS = 5;

/** Handles messages from the parent; exits when the parent goes away, so no child is orphaned. */
export function listenToParent(handler: (message: ParentMessage) => void): void {
  process.on('message', (raw: unknown) => handler(parseParentMessage(raw)));
  process.on('disconnect', () => process.exit(2));
}

/** Reports a fatal error to the parent (best effort) and exits. */
export function failChild(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${message}\n`);
  if (process.send === undefined || !process.connected) process.exit(1);
  sendToParent({ type: 'failed', message }, () => process.exit(1));
}

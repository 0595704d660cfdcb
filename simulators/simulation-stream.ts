/**
 * A simulation made as it is published, for runs too long to hold (the demo's eight days of history).
 * The people and what they do are planned up front (modelSimulation: visitors, staff, passers-by,
 * interactions, consents: memory in proportion to the people of the run); the messages, the bulk of a
 * run (a scan report per sensor every few seconds), are made in time order as they are taken and
 * held only until they are due: a scan instant's reports, the merge of the sources' streams, the
 * deliveries not yet due and what an open uplink outage holds (delivery-stream.ts). The same options
 * give the same messages in the same order and the same truth as buildSimulation (the test
 * simulation-stream.int.test.ts compares them).
 */
import { assembleTruth, consentMessagesOf, deliveryParams, finaliseParams, modelSimulation, scanParams, type SimulationModel } from './build.js';
import { crmTruth } from './crm-truth.js';
import { counterStreams, environmentStreams, shelfMessages } from './devices.js';
import { FootfallTally, markFutureRejection, RESEND_MAX_MS } from './delivery.js';
import { DeliveryStream } from './delivery-stream.js';
import { MessageCounter, type GroundTruth } from './ground-truth.js';
import { BadMessageInjector } from './injection.js';
import { isConsentMessage, MessageFinaliser, sortDrafts, type DraftMessage, type SimMessage } from './messages.js';
import type { SimulationOptions } from './options.js';
import { createRng } from './prng.js';
import { draftSelection } from './scenario-effects.js';
import { scanDrafts } from './scans.js';
import { clockStamper } from './sensor-clocks.js';
import { statusMessages } from './status.js';
import { interactionMessages } from './touchpoints.js';

type TouchpointMessage = Extract<SimMessage, { kind: 'touchpoint' }>;

/** What a streamed run holds at one moment, counted (simulation-stream.int.test.ts checks it stays flat as runs grow). */
export interface HeldCounts {
  /** Messages made and not yet given out: drafts at the heads of the sources' streams, deliveries not yet due, outage buffers. */
  messages: number;
  /** Drafts planned up front and not yet merged: the statuses, touchpoint uses, shelf events and consents (in proportion to the people). */
  plannedDrafts: number;
  /** Message keys kept to recognise resent copies (the last RESEND_MAX_MS of traffic). */
  resendKeys: number;
}

export interface SimulationStream {
  model: SimulationModel;
  /** Every message in publishing order (as buildSimulation's `messages`), made as it is taken; iterate once. */
  messages: Iterable<SimMessage>;
  /** The ground truth; complete once `messages` has been taken to its end. */
  truth(): GroundTruth;
  /** What is held now. */
  held(): HeldCounts;
  /** The agents' planned closing `offline` statuses (what a run stopped early re-stamps and sends). */
  closingStatuses(): SimMessage[];
}

/** A source's drafts in time order, taken one at a time. */
interface Source {
  iterator: Iterator<DraftMessage>;
  head: DraftMessage | undefined;
  /** Made as it is taken (else planned up front). */
  generated: boolean;
  /** Drafts planned up front not yet taken, the head included. */
  planned: number;
}

/** Starts a streamed run: nothing of its messages is made until they are taken. */
export function streamSimulation(opts: SimulationOptions): SimulationStream {
  const model = modelSimulation(opts);
  const { options, window, runId, visitors, interactions, consents, clocks, clockParams, knownSources, deviceParams } = model;
  const { seed, store } = options;
  const { startMs, endMs } = window;
  const selected = draftSelection(store, options.only);
  const counters = counterStreams(deviceParams);
  const planned = (drafts: DraftMessage[]): Source => {
    const sorted = sortDrafts(drafts.filter(selected));
    return { iterator: sorted[Symbol.iterator](), head: undefined, generated: false, planned: sorted.length };
  };
  const generated = (drafts: Iterable<DraftMessage>): Source => ({ iterator: filtered(drafts, selected), head: undefined, generated: true, planned: 0 });
  // the order of buildSimulation's draft list: it breaks ties of time and rank
  const sources: Source[] = [
    planned(statusMessages({ seed, store, startMs, endMs })),
    generated(scanDrafts(scanParams(model), createRng(seed, 'radio'))),
    planned(interactionMessages(interactions)),
    ...counters.streams.map(generated),
    planned(shelfMessages(deviceParams)),
    ...environmentStreams(deviceParams).map(generated),
  ];
  for (const source of sources) advance(source);
  const consentMessages = consentMessagesOf(model);
  const delivery = new DeliveryStream(deliveryParams(model));
  const injector = new BadMessageInjector({ badRate: options.badRate, topicPrefix: options.topicPrefix, runId, knownSources }, createRng(seed, 'injection'));
  const counter = new MessageCounter(knownSources, RESEND_MAX_MS);
  const footfall = new FootfallTally(counters.footfall, startMs, endMs);
  const clockedTouchpoints: Array<{ stampedTs: number; mid: string | undefined }> = [];
  const acceptedTouchpoints = new Set<string | undefined>();
  const touchpointMessages: TouchpointMessage[] = [];
  let consentsLeft = consentMessages.length;
  let truth: ReturnType<typeof assembleTruth> | undefined;

  /** The final steps of buildSimulation, per delivered message: injection, the future-stamp check, and what the truth counts. */
  function* outgoing(delivered: Iterable<SimMessage>): Generator<SimMessage> {
    for (const d of delivered)
      for (const injected of injector.inject(d)) {
        const m = markFutureRejection(injected, window);
        counter.add(m);
        footfall.add(m);
        if (m.kind === 'touchpoint') {
          touchpointMessages.push(m);
          if (!m.duplicate && !m.expectedRejection && m.injected?.scope !== 'message') acceptedTouchpoints.add(m.payload.mid);
        }
        yield m;
      }
  }

  function* messages(): Generator<SimMessage> {
    const finaliser = new MessageFinaliser(finaliseParams(model));
    const stamp = clockStamper(clocks, clockParams);
    let k = 0;
    for (let draft = takeNext(sources); draft !== undefined; draft = takeNext(sources)) {
      const m = stamp(finaliser.finalise(draft));
      if (m.kind === 'touchpoint') clockedTouchpoints.push({ stampedTs: m.ts, mid: m.payload.mid });
      // the consents go in at their true time, after the other messages of the same instant (inTrueTimeOrder)
      for (; k < consentMessages.length && (consentMessages[k] as SimMessage).trueTs < m.trueTs; k += 1, consentsLeft -= 1) {
        delivery.push(consentMessages[k] as SimMessage);
        yield* outgoing(delivery.due());
      }
      delivery.push(m);
      yield* outgoing(delivery.due());
    }
    for (; k < consentMessages.length; k += 1, consentsLeft -= 1) delivery.push(consentMessages[k] as SimMessage);
    yield* outgoing(delivery.due());
    yield* outgoing(delivery.finish());
    truth = countedTruth();
  }

  return {
    model,
    messages: messages(),
    truth: () => truth ?? countedTruth(),
    held: () => ({
      messages: delivery.held + sources.filter((s) => s.head !== undefined && s.generated).length,
      plannedDrafts: sources.reduce((sum, s) => sum + s.planned, 0) + consentsLeft,
      resendKeys: counter.heldKeys,
    }),
    closingStatuses: () => closingStatuses(model),
  };

  /** What was counted so far: the whole run's truth once `messages` has been taken to its end, a partial one before. */
  function countedTruth(): GroundTruth {
    return assembleTruth(model, {
      footfall: footfall.footfall(),
      delivery: { ...delivery.truth(), interactions: clockedTouchpoints.map(({ stampedTs, mid }) => ({ stampedTs, delivered: acceptedTouchpoints.has(mid) })) },
      counts: counter.counts(),
      crm: crmTruth({
        messages: touchpointMessages,
        knownSources,
        visitors,
        interactions,
        consents,
        stamp: (sourceId, trueMs) => clocks.stamp(sourceId, trueMs),
      }),
    });
  }
}

/** The agents' closing `offline` statuses as the run makes them: numbered, stamped, checked against the future limit. */
function closingStatuses(model: SimulationModel): SimMessage[] {
  const { options, window } = model;
  const finaliser = new MessageFinaliser(finaliseParams(model));
  const stamp = clockStamper(model.clocks, model.clockParams);
  const statuses = sortDrafts(
    statusMessages({ seed: options.seed, store: options.store, startMs: window.startMs, endMs: window.endMs }).filter(
      draftSelection(options.store, options.only),
    ),
  );
  // an agent publishes nothing but its statuses: numbered alone they get the ids they have in the run
  return statuses
    .map((d) => markFutureRejection(stamp(finaliser.finalise(d)), window))
    .filter((m) => m.kind === 'status' && m.payload.state === 'offline' && !m.outage && !isConsentMessage(m));
}

function* filtered<T>(items: Iterable<T>, keep: (item: T) => boolean): Generator<T> {
  for (const item of items) if (keep(item)) yield item;
}

function advance(source: Source): void {
  if (source.head !== undefined && !source.generated) source.planned -= 1;
  const next = source.iterator.next();
  source.head = next.done ? undefined : next.value;
}

/**
 * The next draft of the merged streams: earliest time, then rank, then the earlier source (each source
 * is in that order within itself), which is the order finaliseMessages' stable sort gives the drafts.
 */
function takeNext(sources: readonly Source[]): DraftMessage | undefined {
  let best: Source | undefined;
  for (const source of sources) {
    const head = source.head;
    if (head === undefined) continue;
    const top = best?.head;
    if (top === undefined || head.ts < top.ts || (head.ts === top.ts && head.rank < top.rank)) best = source;
  }
  const draft = best?.head;
  if (best) advance(best);
  return draft;
}

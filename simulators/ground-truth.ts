/**
 * The ground truth of a run, from the simulator's own model: who came and where they went, what they
 * did at touchpoints, the footfall, and exactly what was published, counted by the normalisation
 * rules the gateway follows (one point per BLE sighting, wifi observation, touchpoint message,
 * device message and status message).
 */
import { MESSAGE_KINDS, type MessageKind } from '../protocol/index.js';
import type { CrmTruth } from './crm-truth.js';
import type { DeliveryTruth } from './delivery.js';
import type { Footfall } from './devices.js';
import type { Exposure } from './exposures.js';
import type { FloorPlan } from './floor-plan.js';
import { INJECTION_REASONS, isConsentMessage, type InjectionReason, type SimMessage } from './messages.js';
import type { ResolvedSimulationOptions } from './options.js';
import type { ScenarioTruth } from './scenario-effects.js';
import type { Interaction } from './touchpoints.js';
import type { TruthMinutes, ZoneStay } from './truth-minutes.js';
import type { PathSegment } from './visitors.js';

export const MEASUREMENTS = ['sighting', 'interaction', 'consent_choice', 'telemetry', 'agent'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

/** The measurement each kind's points go to (a touchpoint's consent choice aside: measurementOf). */
export const MEASUREMENT_OF: Readonly<Record<MessageKind, Measurement>> = {
  ble: 'sighting',
  wifi: 'sighting',
  touchpoint: 'interaction',
  device: 'telemetry',
  status: 'agent',
};

/** The measurement a message's points go to: a touchpoint's consent choice is not an interaction (docs/schema.md, consent_choice). */
export function measurementOf(message: SimMessage): Measurement {
  return isConsentMessage(message) ? 'consent_choice' : MEASUREMENT_OF[message.kind];
}

export interface VisitTruth {
  /** Internal id (never on the wire). */
  visitor: string;
  /**
   * Who this is: `visitor` (a customer; everyone in `visits`), `staff` (in `staff`), `passer_by` (in
   * `passersBy`). Absent in truths written before staff and passers-by: a visitor.
   */
  role?: 'visitor' | 'staff' | 'passer_by';
  /** Group id shared by the people who came in together (2-4); absent for someone who came alone. */
  group?: string;
  app: boolean;
  /** iBeacon id of the retailer's app (app users). */
  beacon?: string;
  /**
   * When the app advertised its beacon while inside (app users): ascending [from, to) epoch ms. A scan
   * outside these intervals cannot see the beacon; a scan inside can still miss it (radio).
   */
  advertising?: Array<{ from: number; to: number }>;
  /** Pseudonym the app gives touchpoints (app users). */
  appPseudonym?: string;
  /** CRM id (app users who are known customers). */
  customer?: string;
  phone: boolean;
  randomizedMac: boolean;
  /** Wifi pseudonyms the phone used while inside, in order (several when the MAC is randomised). */
  wifiPseudonyms: string[];
  /** How often the randomised MAC rotated, ms (phones with `randomizedMac` only). */
  macRotationMs?: number;
  enteredAt: number;
  /** null: still inside when the window ended. */
  leftAt: number | null;
  /** Zones in order; contiguous; the last `to` is the window's end for a visitor still inside. */
  path: PathSegment[];
  /** The true zone of every clock minute of the path (truthVersion 2; truth-minutes.ts). */
  minutes: TruthMinutes;
  /** Zone stays with their dwell, short ones flagged `passing` (truthVersion 2). */
  stays: ZoneStay[];
  /** Zones in the order visited, no consecutive repeats (truthVersion 2). */
  route: string[];
  /**
   * A visitor with a phone on the street (street.ts): walking to the door before `enteredAt` (`approach`)
   * and away after `leftAt` (`departure`), clipped to the window. Never in `path`.
   */
  street?: Array<{ leg: 'approach' | 'departure'; from: number; to: number }>;
  /** Wifi pseudonyms the phone used on the street and not inside (a rotation on the way in or out). */
  streetPseudonyms?: string[];
}

export interface StaffTruth extends VisitTruth {
  role: 'staff';
  /** Their break out of the store, epoch ms (not clipped). */
  break: { from: number; to: number };
}

export interface PasserByTruth extends VisitTruth {
  role: 'passer_by';
  /** Where they walked: from one end of the street stretch to the other, m in the floor's coordinates. */
  walk: { from: { x: number; y: number }; to: { x: number; y: number } };
}

export interface StrayDeviceTruth {
  /** Internal id `d0001`. */
  device: string;
  kind: 'visitor_phone' | 'staff_device';
  zone: string;
  x: number;
  y: number;
  /** Epoch ms it was left, and collected (null: after the window). */
  from: number;
  to: number | null;
  app: boolean;
  beacon?: string;
  advertising?: Array<{ from: number; to: number }>;
  randomizedMac: boolean;
  /** Wifi pseudonyms it probed under in the window, in order (one for a staff device on the store wifi). */
  wifiPseudonyms: string[];
}

export interface PublishedCounts {
  /** Accepted messages by kind (a batch with one bad item counts: the gateway keeps its good items). */
  messages: Record<MessageKind, number>;
  /** Points by measurement. */
  points: Record<Measurement, number>;
  /** kind → sourceId → counts. */
  bySource: Record<MessageKind, Record<string, { messages: number; points: number }>>;
  /** Second copies put on the wire with a mid already sent: the gateway drops them as duplicates (not in `messages` nor `points`). */
  duplicates: number;
}

export interface RejectionCounts {
  /** Whole messages (json_invalid, source_unknown, ts_in_future). */
  messages: number;
  /** Bad items inside otherwise good batches (items_invalid). */
  items: number;
  /** By the gateway's rejection reason: messages, or items for items_invalid. */
  byReason: Record<InjectionReason, number>;
}

export interface GroundTruth {
  generator: 'storeloop-simulator';
  /** 2: visits carry `minutes`, `stays` and `route`, and the truth `exposures` (docs/simulator.md#ground-truth). */
  truthVersion: 2;
  seed: number;
  runId: string;
  options: Omit<ResolvedSimulationOptions, 'store'> & { storeId: string };
  storeId: string;
  /** Simulated window, epoch ms. */
  windowStart: number;
  windowEnd: number;
  /** False when the run was stopped early: then message counts cover what went out, visits and interactions the whole plan. */
  completed: boolean;
  /** Simulated time the run stopped at (only when not completed). */
  stoppedAt?: number;
  floorPlan: FloorPlan;
  visits: VisitTruth[];
  interactions: Interaction[];
  /** Per (touchpoint, visitor) stay in the touchpoint's zone: in sight of it long enough, or used it (exposures.ts). */
  exposures: Exposure[];
  /** People in and out over the window, per people counter. */
  footfall: Footfall[];
  /** The scenario played (`--scenario`) and the sensors selected (`--only`); absent for a plain run. */
  scenario?: ScenarioTruth;
  /**
   * Staff (staff.ts), one entry per staff member and working day that meets the window, `role: 'staff'`:
   * `enteredAt` their arrival, `leftAt` their departure (null: after the window), `path` their zones
   * clipped to the window with the break out of the store as a stay in zone `outside`, one stable wifi pseudonym.
   */
  staff?: StaffTruth[];
  /**
   * People who walked past the shop front without coming in (street.ts), `role: 'passer_by'`:
   * `enteredAt` when they came within STREET_REACH_M of the shop front, `leftAt` when they were past it,
   * `path` one stay in zone `outside`; `walk` where they walked. Never in `visits`.
   */
  passersBy?: PasserByTruth[];
  /** Devices left behind (strays.ts): still at one spot from `from` until collected (`to`, null: after the window). */
  strayDevices?: StrayDeviceTruth[];
  /** Neighbouring shops' fixed beacons outside the store (street.ts), heard through its outer walls. */
  neighbourBeacons?: Array<{ id: string; x: number; y: number }>;
  /**
   * The capture rate of the window: `entered` people who came in (visits entering in the window),
   * `passersBy` people who walked past without entering (passers-by who came within reach in the window),
   * `rate` = entered / (entered + passersBy) (null when both are 0).
   */
  captureRate?: { entered: number; passersBy: number; rate: number | null };
  /** What the gateway accepts and the points it makes of it. */
  published: PublishedCounts;
  /** What the delivery model did: lost, duplicated, reordered and replayed messages, every source's clock, the outages (delivery.ts). */
  delivery: DeliveryTruth;
  /** Every message put on the wire, malformed ones and duplicates included (what a subscriber receives). */
  publishedMessages: number;
  /** Messages and items malformed on purpose (`badRate`). */
  injected: RejectionCounts;
  /**
   * What a gateway configured with this store rejects: the injected messages and items, plus the status
   * messages of the stand-in agent `sim-agent` when the store config lists no agents (source_unknown).
   */
  expectedRejections: RejectionCounts;
  /**
   * The known customers' consent choices and, per customer, which of their interactions and feedback
   * should reach the CRM and why the others should not (crm-truth.ts). Absent in truths written before
   * consents were modelled.
   */
  crm?: CrmTruth;
}

/** Points a message normalises to (its bad items excluded); 0 for a message that is malformed as a whole. */
export function pointsOf(message: SimMessage): number {
  if (message.injected?.scope === 'message') return 0;
  const bad = message.injected?.badItems ?? 0;
  if (message.kind === 'ble') return message.payload.sightings.length - bad;
  if (message.kind === 'wifi') return message.payload.observations.length - bad;
  return 1;
}

/**
 * Counts what a list of messages puts on the wire and what a gateway that knows `knownSources` (the
 * store's sensors, touchpoints, devices and agents) makes of it.
 */
export function countMessages(
  messages: readonly SimMessage[],
  knownSources: ReadonlySet<string>,
): Pick<GroundTruth, 'published' | 'publishedMessages' | 'injected' | 'expectedRejections'> {
  const counter = new MessageCounter(knownSources);
  for (const message of messages) counter.add(message);
  return counter.counts();
}

/**
 * countMessages one message at a time, in publishing order (ascending `sendAt`). To hold only what a
 * later message can still need, give it `resendWithinMs`: a resent copy goes out at most this long
 * after its first (delivery.ts), so older keys are forgotten; without it every accepted key is kept.
 */
export class MessageCounter {
  private readonly published: PublishedCounts = {
    messages: zeros(MESSAGE_KINDS),
    points: zeros(MEASUREMENTS),
    bySource: Object.fromEntries(MESSAGE_KINDS.map((k) => [k, {}])) as PublishedCounts['bySource'],
    duplicates: 0,
  };
  private readonly injected = emptyRejections();
  private readonly expectedRejections = emptyRejections();
  private readonly accepted = new Set<string>();
  /** Accepted keys in the order they came, with their `sendAt`, while `resendWithinMs` bounds them. */
  private readonly acceptedAt: Array<{ key: string; sendAt: number }> = [];
  private oldest = 0;
  private total = 0;

  constructor(
    private readonly knownSources: ReadonlySet<string>,
    private readonly resendWithinMs?: number,
  ) {}

  add(message: SimMessage): void {
    const { published, injected, expectedRejections } = this;
    this.total += 1;
    if (message.expectedRejection) {
      // rejected for its time before its items are looked at; what was injected into it still counts as injected
      if (message.injected) addRejection(injected, message.injected.reason, message.injected.scope, message.injected.badItems);
      addRejection(expectedRejections, message.expectedRejection, 'message', 0);
      return;
    }
    this.forgetBefore(message.sendAt);
    const midKey = `${message.sourceId}|${message.payload.mid}`;
    // a resend of a message the gateway accepted is dropped; one of a message it rejected is looked at afresh
    if (message.duplicate && this.accepted.has(midKey)) {
      published.duplicates += 1;
      return;
    }
    if (message.injected) {
      for (const counts of [injected, expectedRejections]) addRejection(counts, message.injected.reason, message.injected.scope, message.injected.badItems);
      if (message.injected.scope === 'message') return;
    } else if (!this.knownSources.has(message.sourceId)) {
      addRejection(expectedRejections, 'source_unknown', 'message', 0);
      return;
    }
    this.accepted.add(midKey);
    if (this.resendWithinMs !== undefined) this.acceptedAt.push({ key: midKey, sendAt: message.sendAt });
    const points = pointsOf(message);
    published.messages[message.kind] += 1;
    published.points[measurementOf(message)] += points;
    const perSource = (published.bySource[message.kind][message.sourceId] ??= { messages: 0, points: 0 });
    perSource.messages += 1;
    perSource.points += points;
  }

  private forgetBefore(sendAt: number): void {
    if (this.resendWithinMs === undefined) return;
    for (; this.oldest < this.acceptedAt.length; this.oldest += 1) {
      const entry = this.acceptedAt[this.oldest] as { key: string; sendAt: number };
      if (entry.sendAt >= sendAt - this.resendWithinMs) break;
      this.accepted.delete(entry.key);
    }
    if (this.oldest > 1024 && this.oldest * 2 > this.acceptedAt.length) {
      this.acceptedAt.splice(0, this.oldest);
      this.oldest = 0;
    }
  }

  /** Keys held to recognise resends (for the bounded-memory test). */
  get heldKeys(): number {
    return this.accepted.size;
  }

  counts(): Pick<GroundTruth, 'published' | 'publishedMessages' | 'injected' | 'expectedRejections'> {
    return { published: this.published, publishedMessages: this.total, injected: this.injected, expectedRejections: this.expectedRejections };
  }
}

function emptyRejections(): RejectionCounts {
  return { messages: 0, items: 0, byReason: zeros(INJECTION_REASONS) };
}

function addRejection(counts: RejectionCounts, reason: InjectionReason, scope: 'message' | 'item', badItems: number): void {
  if (scope === 'message') {
    counts.messages += 1;
    counts.byReason[reason] += 1;
  } else {
    counts.items += badItems;
    counts.byReason[reason] += badItems;
  }
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/**
 * Checks one event a kiosk, mirror, shelf or terminal POSTed (pure): the kind and source id from the
 * URL, then the body against the contract's schema (protocol/). Bad input is a value with an HTTP
 * status, a stable code and the zod path; a MAC-shaped value anywhere is refused, never queued.
 */
import { DeviceMessageSchema, EntityIdSchema, TouchpointMessageSchema, containsMacAddress, formatZodError } from '../../protocol/index.js';
import type { QueueMessage } from '../queue/edge-queue.js';

export const INGRESS_KINDS = ['touchpoint', 'device'] as const;
export type IngressKind = (typeof INGRESS_KINDS)[number];

export interface IngressRejection {
  ok: false;
  status: 400 | 404 | 422;
  code: string;
  /** `path: message`, as zod names it. */
  detail: string;
}

export type IngressValidation = { ok: true; message: QueueMessage } | IngressRejection;

export interface IngressEventInput {
  kind: string;
  sourceId: string;
  body: unknown;
  /** Receipt time (epoch ms): the event time of a body without `ts`. */
  now: number;
  /** Accepted source ids; null accepts any valid id. */
  sourceIds: readonly string[] | null;
}

const SCHEMAS = { touchpoint: TouchpointMessageSchema, device: DeviceMessageSchema } as const;
const MAX_DEPTH = 8;

function reject(status: IngressRejection['status'], code: string, detail: string): IngressRejection {
  return { ok: false, status, code, detail };
}

function isIngressKind(kind: string): kind is IngressKind {
  return (INGRESS_KINDS as readonly string[]).includes(kind);
}

/** The path of the first key or string value that holds a MAC address, or undefined. */
export function findMacAddress(value: unknown, path: string[] = [], depth = 0): string | undefined {
  if (typeof value === 'string') return containsMacAddress(value) ? path.join('.') || '(body)' : undefined;
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (containsMacAddress(key)) return [...path, '(key)'].join('.');
    const found = findMacAddress(item, [...path, key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Validates a POSTed event; answers the message to queue or the rejection. */
export function validateIngressEvent(input: IngressEventInput): IngressValidation {
  const { kind, sourceId, body } = input;
  if (!isIngressKind(kind)) return reject(404, 'SL_ERR_INGRESS_KIND', `kind: unknown kind '${kind.slice(0, 40)}', expected ${INGRESS_KINDS.join(' or ')}`);
  if (containsMacAddress(sourceId)) return reject(422, 'SL_ERR_INGRESS_MAC_ADDRESS', 'sourceId: a MAC address is not a source id');
  const id = EntityIdSchema.safeParse(sourceId);
  if (!id.success) return reject(400, 'SL_ERR_INGRESS_SOURCE_ID', formatZodError(id.error, 'sourceId'));
  if (input.sourceIds !== null && !input.sourceIds.includes(sourceId)) {
    return reject(404, 'SL_ERR_INGRESS_SOURCE_UNKNOWN', `sourceId: '${sourceId}' is not under sources.ingress.sourceIds`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return reject(400, 'SL_ERR_INGRESS_BODY', '(body): expected a JSON object');
  const macPath = findMacAddress(body);
  if (macPath !== undefined)
    return reject(422, 'SL_ERR_INGRESS_MAC_ADDRESS', `${macPath}: a MAC address must not leave the device: hash it at the source or leave it out`);
  if ('mid' in body) return reject(400, 'SL_ERR_INGRESS_BODY', 'mid: the agent stamps the message id; leave it out');
  const schema = SCHEMAS[kind];
  const unknown = Object.keys(body).find((key) => !(key in schema.shape));
  if (unknown !== undefined)
    return reject(
      400,
      'SL_ERR_INGRESS_BODY',
      `${unknown.slice(0, 40)}: unknown key (expected ${Object.keys(schema.shape)
        .filter((k) => k !== 'mid')
        .join(', ')})`,
    );
  const withTs = 'ts' in body ? body : { ...body, ts: input.now };
  const parsed = schema.safeParse(withTs);
  if (!parsed.success) return reject(400, 'SL_ERR_INGRESS_SCHEMA', formatZodError(parsed.error));
  const message: QueueMessage =
    kind === 'touchpoint'
      ? { kind, sourceId, payload: parsed.data as QueueMessagePayload<'touchpoint'> }
      : { kind, sourceId, payload: parsed.data as QueueMessagePayload<'device'> };
  return { ok: true, message };
}

type QueueMessagePayload<K extends IngressKind> = Extract<QueueMessage, { kind: K }>['payload'];

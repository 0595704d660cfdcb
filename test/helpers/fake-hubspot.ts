/**
 * A real HTTP server on loopback that answers as HubSpot's APIs are documented to, for the gateway's
 * HubSpot destination: custom behavioral events (`POST /events/v3/send`: a bearer token, the event
 * definitions with their properties, the 2021 property limits, `uuid` as the occurrence's identity so a
 * resent occurrence is not applied twice, 204 No Content) and the GDPR contact deletion
 * (`POST /crm/v3/objects/contacts/gdpr-delete`: by record id, or by email with `idProperty: email`,
 * which deletes the contact and everything associated and blocklists the email). Errors carry
 * HubSpot's error body (`status`, `message`, `correlationId`, `category`); a 429 names its
 * `policyName`. Faults are scripted: queued answers, a hang, or applying an occurrence and then never
 * answering (the effect without the acknowledgement).
 *
 * The fake keeps a contact per email or record id an occurrence names (so the deletion has something
 * to delete); what HubSpot itself does with an occurrence for an unknown email is not modelled.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { listenOnLoopback, readBody } from './loopback-http.js';

export interface FakeHubSpotOptions {
  /** The private app token it accepts (`Authorization: Bearer …`). */
  token: string;
  /** Each event's fully qualified name (`pe{hubId}_{name}`) and the property names defined for it. */
  eventDefinitions: Record<string, string[]>;
}

/** One queued answer: a status and body, a hang that never answers, or an occurrence applied and then no answer. */
export type HubSpotScript = { status: number; headers?: Record<string, string>; body?: unknown } | { hang: true } | { applyThenHang: true };

export interface HubSpotOccurrence {
  uuid: string;
  eventName: string;
  /** The contact as the request named it: `email:…`, `objectId:…` or `utk:…`. */
  contact: string;
  occurredAt: string;
  properties: Record<string, unknown>;
}

export interface HubSpotAttempt {
  path: string;
  uuid?: string;
  /** 0 while unanswered. */
  status: number;
  at: number;
}

export interface FakeHubSpot {
  baseUrl: string;
  /** Applied occurrences, each uuid once. */
  occurrences: HubSpotOccurrence[];
  /** Uuids sent again after they were applied (answered 204, not applied again). */
  duplicates: string[];
  /** Every request in arrival order. */
  attempts: HubSpotAttempt[];
  /** Contacts it holds (`email:…` / `objectId:…`). */
  contacts: Set<string>;
  /** The bodies of the GDPR deletions it carried out. */
  gdprDeletes: Array<{ objectId: string; idProperty?: string }>;
  /** Emails a GDPR deletion blocklisted. */
  blocklist: Set<string>;
  /** The token it accepts from now on. */
  acceptToken(token: string): void;
  script(...answers: HubSpotScript[]): void;
  stop(): Promise<void>;
}

/** HubSpot's 429 body for a policy (`TEN_SECONDLY_ROLLING`, `DAILY`). */
export function rateLimited(policyName: string, headers: Record<string, string> = {}): HubSpotScript {
  return {
    status: 429,
    headers,
    body: {
      status: 'error',
      message: `You have reached your ${policyName === 'DAILY' ? 'daily' : 'secondly'} limit.`,
      errorType: 'RATE_LIMIT',
      correlationId: randomUUID(),
      policyName,
    },
  };
}

const NAME = /^[a-z][a-z0-9_]{0,49}$/;
const MAX_PROPERTIES = 50;
const MAX_VALUE_CHARS = 50;

function error(status: number, category: string, message: string): { status: number; body: unknown } {
  return { status, body: { status: 'error', message, correlationId: randomUUID(), category } };
}

export async function startFakeHubSpot(options: FakeHubSpotOptions): Promise<FakeHubSpot> {
  let token = options.token;
  const occurrences: HubSpotOccurrence[] = [];
  const applied = new Set<string>();
  const duplicates: string[] = [];
  const attempts: HubSpotAttempt[] = [];
  const contacts = new Set<string>();
  const gdprDeletes: FakeHubSpot['gdprDeletes'] = [];
  const blocklist = new Set<string>();
  const scripted: HubSpotScript[] = [];
  const hanging = new Set<ServerResponse>();

  /** Validates and applies an occurrence; the answer HubSpot gives. */
  const sendEvent = (body: Record<string, unknown>): { status: number; body?: unknown } => {
    const eventName = body.eventName;
    if (typeof eventName !== 'string' || options.eventDefinitions[eventName] === undefined) {
      return error(400, 'VALIDATION_ERROR', `Event ${String(eventName)} is not defined in this portal`);
    }
    const keys = (['email', 'objectId', 'utk'] as const).filter((k) => typeof body[k] === 'string');
    if (keys.length === 0) return error(400, 'VALIDATION_ERROR', 'One of email, utk or objectId is required');
    const properties = (body.properties ?? {}) as Record<string, unknown>;
    const names = Object.keys(properties);
    if (names.length > MAX_PROPERTIES) return error(400, 'VALIDATION_ERROR', `Too many properties: ${names.length} (max ${MAX_PROPERTIES})`);
    for (const name of names) {
      if (!NAME.test(name)) return error(400, 'VALIDATION_ERROR', `Property name ${name} is invalid`);
      if (!options.eventDefinitions[eventName].includes(name)) return error(400, 'VALIDATION_ERROR', `Property ${name} does not exist on event ${eventName}`);
      if (String(properties[name]).length > MAX_VALUE_CHARS)
        return error(400, 'VALIDATION_ERROR', `Property ${name} value exceeds ${MAX_VALUE_CHARS} characters`);
    }
    const uuid = typeof body.uuid === 'string' ? body.uuid : randomUUID();
    if (applied.has(uuid)) {
      duplicates.push(uuid);
      return { status: 204 };
    }
    const key = keys[0] as (typeof keys)[number];
    const contact = `${key}:${String(body[key])}`;
    if (key === 'email' && blocklist.has(String(body.email))) return error(400, 'VALIDATION_ERROR', 'This email address is blocklisted');
    applied.add(uuid);
    if (key !== 'utk') contacts.add(contact);
    occurrences.push({ uuid, eventName, contact, occurredAt: String(body.occurredAt), properties });
    return { status: 204 };
  };

  const gdprDelete = (body: Record<string, unknown>): { status: number; body?: unknown } => {
    if (typeof body.objectId !== 'string') return error(400, 'VALIDATION_ERROR', 'objectId is required');
    const byEmail = body.idProperty === 'email';
    const contact = `${byEmail ? 'email' : 'objectId'}:${body.objectId}`;
    if (!byEmail && !contacts.has(contact)) return error(404, 'OBJECT_NOT_FOUND', 'resource not found');
    gdprDeletes.push({ objectId: body.objectId, ...(byEmail ? { idProperty: 'email' } : {}) });
    contacts.delete(contact);
    // the contact and all associated content: its event occurrences too
    for (let i = occurrences.length - 1; i >= 0; i -= 1) if (occurrences[i]?.contact === contact) occurrences.splice(i, 1);
    if (byEmail) blocklist.add(body.objectId);
    return { status: 204 };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, attempt: HubSpotAttempt) => {
    const answer = (a: { status: number; headers?: Record<string, string>; body?: unknown }) => {
      attempt.status = a.status;
      if (res.headersSent || res.destroyed) return;
      res.writeHead(a.status, { ...(a.body === undefined ? {} : { 'content-type': 'application/json;charset=utf-8' }), ...a.headers });
      res.end(a.body === undefined ? undefined : JSON.stringify(a.body));
    };
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return answer(error(400, 'VALIDATION_ERROR', 'Invalid JSON'));
    }
    if (typeof body.uuid === 'string') attempt.uuid = body.uuid;
    const next = scripted.shift();
    if (next !== undefined && 'hang' in next) return void hanging.add(res);
    if (next !== undefined && 'status' in next) return answer(next);
    if (req.headers.authorization !== `Bearer ${token}`) {
      return answer(error(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication.'));
    }
    const url = new URL(req.url ?? '/', 'http://hubspot');
    let result: { status: number; body?: unknown };
    if (req.method === 'POST' && url.pathname === '/events/v3/send') result = sendEvent(body);
    else if (req.method === 'POST' && url.pathname === '/crm/v3/objects/contacts/gdpr-delete') result = gdprDelete(body);
    else result = error(404, 'OBJECT_NOT_FOUND', `no route ${req.method ?? ''} ${url.pathname}`);
    if (next !== undefined && 'applyThenHang' in next) return void hanging.add(res);
    return answer(result);
  };

  const server = await listenOnLoopback(
    (req, res) => {
      const attempt: HubSpotAttempt = { path: new URL(req.url ?? '/', 'http://hubspot').pathname, status: 0, at: Date.now() };
      attempts.push(attempt);
      handle(req, res, attempt).catch(() => {
        attempt.status = 500;
        if (!res.headersSent && !res.destroyed) res.writeHead(500).end();
      });
    },
    () => {
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
  );
  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    occurrences,
    duplicates,
    attempts,
    contacts,
    gdprDeletes,
    blocklist,
    acceptToken: (t) => {
      token = t;
    },
    script: (...answers) => {
      scripted.push(...answers);
    },
    stop: server.stop,
  };
}

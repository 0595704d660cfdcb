/**
 * A real HTTP server on loopback that answers as Salesforce's REST API is documented to, for the
 * gateway's Salesforce destination: the OAuth 2.0 client credentials flow
 * (`POST /services/oauth2/token`, form-encoded, `invalid_client` for wrong credentials), and platform
 * event publishing through sObject Collections (`POST /services/data/vXX.X/composite/sobjects`: at most
 * 200 records, `allOrNone: false`, one `SaveResult` per record in order, `OPERATION_ENQUEUED` on
 * success). A request with a token it did not issue, or one it expired, gets 401 with
 * `INVALID_SESSION_ID`; errors are Salesforce's JSON list of `{message, errorCode}`.
 *
 * Platform events take no client idempotency key: every record that succeeds is published, resends
 * included, as Salesforce does; `published` keeps them all, so a test de-duplicates by
 * `Storeloop_Event_Id__c` as a subscriber would. Faults are scripted: whole-request answers (a status
 * and body, a hang, publishing and then never answering) and per-record errors by event id.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { listenOnLoopback, readBody } from './loopback-http.js';

export interface FakeSalesforceOptions {
  clientId: string;
  clientSecret: string;
  /** Each platform event's API name and its fields. */
  eventObjects: Record<string, string[]>;
}

export type SalesforceScript = { status: number; headers?: Record<string, string>; body?: unknown } | { hang: true } | { publishThenHang: true };

export interface PublishedEvent {
  type: string;
  fields: Record<string, unknown>;
  at: number;
}

export interface SalesforceRequest {
  path: string;
  /** `Storeloop_Event_Id__c` of each record of a composite request, in order. */
  eventIds: string[];
  /** 0 while unanswered. */
  status: number;
}

export interface FakeSalesforce {
  instanceUrl: string;
  /** Every record published, resends included, in order. */
  published: PublishedEvent[];
  requests: SalesforceRequest[];
  /** How many tokens the token endpoint issued. */
  tokensIssued(): number;
  /** The consumer secret it accepts from now on (a rotation in Salesforce). */
  acceptClientSecret(secret: string): void;
  /** Every token issued so far is expired from now on (401 INVALID_SESSION_ID). */
  expireTokens(): void;
  script(...answers: SalesforceScript[]): void;
  /** The next `times` records carrying this `Storeloop_Event_Id__c` fail with this error. */
  failRecord(eventId: string, error: { statusCode: string; message: string; fields?: string[] }, times?: number): void;
  stop(): Promise<void>;
}

/** Salesforce's answer when the org's API request allocation is used up. */
export const REQUEST_LIMIT_EXCEEDED: SalesforceScript = {
  status: 403,
  body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
};

const MAX_RECORDS = 200;
const EVENT_ID = 'Storeloop_Event_Id__c';

export async function startFakeSalesforce(options: FakeSalesforceOptions): Promise<FakeSalesforce> {
  let clientSecret = options.clientSecret;
  const tokens = new Set<string>();
  let issued = 0;
  const published: PublishedEvent[] = [];
  const requests: SalesforceRequest[] = [];
  const scripted: SalesforceScript[] = [];
  const recordFaults: Array<{ eventId: string; error: { statusCode: string; message: string; fields?: string[] }; left: number }> = [];
  const hanging = new Set<ServerResponse>();

  const token = (form: URLSearchParams, instanceUrl: string): { status: number; body: unknown } => {
    if (form.get('grant_type') !== 'client_credentials')
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' } };
    if (form.get('client_id') !== options.clientId || form.get('client_secret') !== clientSecret) {
      return { status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } };
    }
    const accessToken = `00D000000000001!${randomBytes(24).toString('base64url')}`;
    tokens.add(accessToken);
    issued += 1;
    return {
      status: 200,
      body: {
        access_token: accessToken,
        signature: randomBytes(32).toString('base64'),
        instance_url: instanceUrl,
        id: `${instanceUrl}/id/00D000000000001AAA/005000000000001AAA`,
        token_type: 'Bearer',
        issued_at: String(Date.now()),
      },
    };
  };

  /** One record's SaveResult, publishing it when it is valid and not scripted to fail. */
  const saveRecord = (record: Record<string, unknown>): unknown => {
    const { attributes, ...fields } = record as { attributes?: { type?: string } } & Record<string, unknown>;
    const type = attributes?.type ?? '';
    const known = options.eventObjects[type];
    const fail = (statusCode: string, message: string, names: string[] = []) => ({
      id: null,
      success: false,
      errors: [{ statusCode, message, fields: names }],
    });
    if (known === undefined) return fail('INVALID_TYPE', `sObject type '${type}' is not supported.`);
    const unknown = Object.keys(fields).filter((f) => !known.includes(f));
    if (unknown.length > 0) return fail('INVALID_FIELD', `No such column '${unknown[0] ?? ''}' on sobject of type ${type}`, unknown);
    const fault = recordFaults.find((f) => f.left > 0 && f.eventId === fields[EVENT_ID]);
    if (fault !== undefined) {
      fault.left -= 1;
      return fail(fault.error.statusCode, fault.error.message, fault.error.fields);
    }
    published.push({ type, fields, at: Date.now() });
    return { id: `e00xx${randomBytes(5).toString('hex')}`, success: true, errors: [{ statusCode: 'OPERATION_ENQUEUED', message: randomUUID(), fields: [] }] };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, attempt: SalesforceRequest, instanceUrl: string) => {
    const answer = (a: { status: number; headers?: Record<string, string>; body?: unknown }) => {
      attempt.status = a.status;
      if (res.headersSent || res.destroyed) return;
      res.writeHead(a.status, { ...(a.body === undefined ? {} : { 'content-type': 'application/json;charset=UTF-8' }), ...a.headers });
      res.end(a.body === undefined ? undefined : JSON.stringify(a.body));
    };
    const raw = (await readBody(req)).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://salesforce');
    if (req.method === 'POST' && url.pathname === '/services/oauth2/token') return answer(token(new URLSearchParams(raw), instanceUrl));
    if (req.method !== 'POST' || !/^\/services\/data\/v\d+\.\d\/composite\/sobjects$/.test(url.pathname)) {
      return answer({ status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] });
    }
    let body: { allOrNone?: boolean; records?: Array<Record<string, unknown>> };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return answer({ status: 400, body: [{ errorCode: 'JSON_PARSER_ERROR', message: 'Unexpected character' }] });
    }
    const records = body.records ?? [];
    attempt.eventIds = records.map((r) => String(r[EVENT_ID]));
    const next = scripted.shift();
    if (next !== undefined && 'hang' in next) return void hanging.add(res);
    if (next !== undefined && 'status' in next) return answer(next);
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!tokens.has(bearer)) return answer({ status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] });
    if (records.length === 0 || records.length > MAX_RECORDS) {
      return answer({ status: 400, body: [{ errorCode: 'INVALID_FIELD', message: `Number of records must be between 1 and ${MAX_RECORDS}` }] });
    }
    if (body.allOrNone === true) return answer({ status: 400, body: [{ errorCode: 'INVALID_FIELD', message: 'the fake models allOrNone: false only' }] });
    const results = records.map(saveRecord);
    if (next !== undefined && 'publishThenHang' in next) return void hanging.add(res);
    return answer({ status: 200, body: results });
  };

  let instanceUrl = '';
  const server = await listenOnLoopback(
    (req, res) => {
      const attempt: SalesforceRequest = { path: new URL(req.url ?? '/', 'http://salesforce').pathname, eventIds: [], status: 0 };
      requests.push(attempt);
      handle(req, res, attempt, instanceUrl).catch(() => {
        attempt.status = 500;
        if (!res.headersSent && !res.destroyed) res.writeHead(500).end();
      });
    },
    () => {
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
  );
  instanceUrl = `http://127.0.0.1:${server.port}`;
  return {
    instanceUrl,
    published,
    requests,
    tokensIssued: () => issued,
    acceptClientSecret: (secret) => {
      clientSecret = secret;
    },
    expireTokens: () => tokens.clear(),
    script: (...answers) => {
      scripted.push(...answers);
    },
    failRecord: (eventId, error, times = 1) => {
      recordFaults.push({ eventId, error, left: times });
    },
    stop: server.stop,
  };
}

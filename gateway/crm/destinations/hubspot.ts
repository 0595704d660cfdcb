/**
 * HubSpot custom behavioral events: one `POST {baseUrl}/events/v3/send` per event with the private
 * app's bearer token (the mapping and HubSpot's limits in hubspot-event.ts), and the erasure as
 * HubSpot's GDPR contact deletion (`POST {baseUrl}/crm/v3/objects/contacts/gdpr-delete`). The `uuid`
 * derived from the event id is the idempotency key: HubSpot takes an occurrence once per uuid.
 *
 * Answers: 2xx delivered (204 No Content). 429: throttled, the destination pauses for `Retry-After`
 * when sent, else by the body's `policyName`: `DAILY` until the daily limit resets (midnight in the
 * account's `timeZone`), `TEN_SECONDLY_ROLLING` 10 s, `SECONDLY` 1 s. 401 and 403 (a bad or revoked
 * token, a missing scope): the configuration's fault, the destination pauses with the backoff and an
 * error is logged. 400, 413, 422: refused, a dead letter with HubSpot's message. 502, 503, 504
 * throttle; other answers, timeouts and network errors are retried. HubSpot documents no "gone"
 * answer for these endpoints, so nothing here disables the destination. A gdpr-delete answered 404
 * `OBJECT_NOT_FOUND` means no such contact: nothing left to delete, so the notice counts as delivered.
 * The deletion takes a record id or an email: with `identifyBy: utk` HubSpot cannot be told
 * (`erasureUnsupported`), and the erasure queues no notice for it.
 */
import { crmSecretEnvName, type HubSpotDestinationConfig } from '../../../config/index.js';
import { parseJson, request, retryAfterMs, type AttemptResult, type CrmDestinationAdapter, type HttpAnswer, type OutgoingEvent } from './destination.js';
import { hubspotErasureBody, hubspotErasureUnsupported, hubspotEventBody, msUntilMidnight } from './hubspot-event.js';

const THROTTLE = new Set([429, 502, 503, 504]);
const REFUSED = new Set([400, 413, 422]);
/** The windows of HubSpot's burst policies, waited out when a 429 names one and sends no `Retry-After`. */
const POLICY_WINDOW_MS: Record<string, number> = { TEN_SECONDLY_ROLLING: 10_000, SECONDLY: 1_000 };

interface HubSpotError {
  message?: string;
  category?: string;
  policyName?: string;
}

export class HubSpotDestination implements CrmDestinationAdapter {
  readonly maxBatch = 1;
  readonly erasureUnsupported: string | undefined;

  constructor(private readonly config: HubSpotDestinationConfig) {
    this.erasureUnsupported = hubspotErasureUnsupported(config.identifyBy);
  }

  async send(events: readonly OutgoingEvent[]): Promise<AttemptResult[]> {
    const results: AttemptResult[] = [];
    for (const event of events) results.push(await this.sendOne(event));
    return results;
  }

  private async sendOne(outgoing: OutgoingEvent): Promise<AttemptResult> {
    if (outgoing.event.type === 'erasure') {
      const erasure = hubspotErasureBody(this.config, outgoing.customer);
      if ('refused' in erasure) return { kind: 'refused', status: null, error: erasure.refused };
      return this.post('/crm/v3/objects/contacts/gdpr-delete', erasure.body, true);
    }
    const mapped = hubspotEventBody(this.config, outgoing);
    if ('refused' in mapped) return { kind: 'refused', status: null, error: `not sent to HubSpot: ${mapped.refused}` };
    return this.post('/events/v3/send', mapped.body, false);
  }

  private async post(path: string, body: unknown, erasure: boolean): Promise<AttemptResult> {
    const url = `${this.config.baseUrl.replace(/\/$/, '')}${path}`;
    const answer = await request(
      url,
      {
        method: 'POST',
        timeoutMs: this.config.timeoutMs,
        headers: { authorization: `Bearer ${this.config.token}`, 'content-type': 'application/json', 'user-agent': 'storeloop-gateway' },
        body: JSON.stringify(body),
      },
      `HubSpot ${path}`,
    );
    if ('kind' in answer) return answer;
    return judgeHubSpotAnswer(this.config, path, answer, erasure, Date.now());
  }
}

/** What HubSpot's answer to a request on `path` means for the event (pure: the answer and the time in, the result out). */
export function judgeHubSpotAnswer(
  config: Pick<HubSpotDestinationConfig, 'name' | 'timeZone'>,
  path: string,
  answer: HttpAnswer,
  erasure: boolean,
  now: number,
): AttemptResult {
  const { status } = answer;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const parsed = parseJson(answer.text);
  const details: HubSpotError = typeof parsed === 'object' && parsed !== null ? (parsed as HubSpotError) : {};
  const said = details.message ?? answer.text.slice(0, 300);
  const error = `HubSpot ${path} answered ${status}${said === '' ? '' : `: ${said}`}`;
  if (erasure && status === 404 && details.category === 'OBJECT_NOT_FOUND') return { kind: 'delivered', status };
  if (REFUSED.has(status)) return { kind: 'refused', status, error };
  if (status === 401 || status === 403) {
    return {
      kind: 'retry',
      status,
      error: `${error} (the private app token is wrong, revoked or lacks a scope: fix token or ${crmSecretEnvName(config.name, 'TOKEN')})`,
      throttled: true,
      configurationFault: true,
    };
  }
  const after = retryAfterMs(answer.headers.get('retry-after'), now) ?? policyWaitMs(config.timeZone, status, details.policyName, now);
  const policy = status === 429 && details.policyName !== undefined ? ` (policy ${details.policyName})` : '';
  const until =
    status === 429 && details.policyName === 'DAILY' && after !== undefined
      ? `; HubSpot's daily limit resets at midnight ${config.timeZone}, ${new Date(now + after).toISOString()}`
      : '';
  return {
    kind: 'retry',
    status,
    error: `${error}${policy}${until}`,
    throttled: THROTTLE.has(status),
    ...(after === undefined ? {} : { retryAfterMs: after }),
  };
}

/** How long a 429 naming a policy asks to wait, when it sends no `Retry-After`. */
function policyWaitMs(timeZone: string, status: number, policyName: string | undefined, now: number): number | undefined {
  if (status !== 429 || policyName === undefined) return undefined;
  if (policyName === 'DAILY') return msUntilMidnight(timeZone, now);
  return POLICY_WINDOW_MS[policyName];
}

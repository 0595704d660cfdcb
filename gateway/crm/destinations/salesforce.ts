/**
 * Salesforce Platform Events: up to `batchSize` (≤ 200) events per
 * `POST {instanceUrl}/services/data/v{apiVersion}/composite/sobjects` with `allOrNone: false`, each
 * record judged by its own result (salesforce-records.ts), so one refused record does not hold back
 * the others. Authentication is the OAuth 2.0 client credentials flow
 * (`POST {instanceUrl}/services/oauth2/token`, grant_type=client_credentials): the access token is kept
 * and fetched again when Salesforce answers 401 `INVALID_SESSION_ID`, then the request is sent once
 * more at once.
 *
 * Whole-request answers: 401 after a fresh token, an OAuth error at the token endpoint, 403 other than
 * `REQUEST_LIMIT_EXCEEDED`, 404 and a 400 `INVALID_TYPE` or `NOT_FOUND` (the event object or the API
 * version does not exist) are the configuration's fault: the destination pauses with the backoff and
 * an error is logged. 403 `REQUEST_LIMIT_EXCEEDED` throttles. 410 (the API version is retired)
 * disables the destination. Another 400 refuses the batch's records. 5xx, timeouts and network errors
 * are retried (503 throttles).
 */
import { crmSecretEnvName, type SalesforceDestinationConfig } from '../../../config/index.js';
import { allOf, parseJson, request, retryAfterMs, type AttemptResult, type CrmDestinationAdapter, type OutgoingEvent } from './destination.js';
import { judgeSaveResult, salesforceRecord, type SaveResult } from './salesforce-records.js';

/** Salesforce's error body: a list of `{message, errorCode}`. */
type RestErrors = Array<{ message?: string; errorCode?: string }>;

const CONFIGURATION_CODES = new Set(['INVALID_TYPE', 'NOT_FOUND']);

export class SalesforceDestination implements CrmDestinationAdapter {
  readonly maxBatch: number;
  private accessToken: string | undefined;

  constructor(private readonly config: SalesforceDestinationConfig) {
    this.maxBatch = config.batchSize;
  }

  private get base(): string {
    return this.config.instanceUrl.replace(/\/$/, '');
  }

  async send(events: readonly OutgoingEvent[]): Promise<AttemptResult[]> {
    const body = JSON.stringify({ allOrNone: false, records: events.map((e) => salesforceRecord(this.config, e)) });
    let answer = await this.post(body);
    if ('refreshed' in answer) answer = await this.post(body);
    if ('refreshed' in answer)
      return allOf(events, configurationFault(this.config, 401, 'Salesforce answered 401 INVALID_SESSION_ID again with a fresh token'));
    if ('kind' in answer) return allOf(events, answer);
    const { status, text } = answer;
    if (status === 200) {
      const results = parseJson(text);
      if (!Array.isArray(results))
        return allOf(events, { kind: 'retry', status, error: `Salesforce answered 200 without a result list: ${text.slice(0, 200)}`, throttled: false });
      return events.map((_, i) => judgeSaveResult(results[i] as SaveResult | undefined));
    }
    return allOf(events, judgeSalesforceFailure(this.config, status, text, answer.retryAfter, Date.now()));
  }

  /** One composite request with the current token (fetched first when there is none); `refreshed` when the token was stale and has been dropped. */
  private async post(
    body: string,
  ): Promise<{ status: number; text: string; retryAfter: string | null } | { refreshed: true } | Extract<AttemptResult, { kind: 'retry' }>> {
    const token = this.accessToken ?? (await this.fetchToken());
    if (typeof token !== 'string') return token;
    const path = `/services/data/v${this.config.apiVersion}/composite/sobjects`;
    const answer = await request(
      `${this.base}${path}`,
      {
        method: 'POST',
        timeoutMs: this.config.timeoutMs,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': 'storeloop-gateway' },
        body,
      },
      `Salesforce ${path}`,
    );
    if ('kind' in answer) return answer;
    if (answer.status === 401) {
      // [REST API: Status Codes] 401: the session ID or OAuth token expired or is invalid (INVALID_SESSION_ID): get a new one
      this.accessToken = undefined;
      return { refreshed: true };
    }
    return { status: answer.status, text: answer.text, retryAfter: answer.headers.get('retry-after') };
  }

  /** The client credentials flow: a new access token, or why there is none. */
  private async fetchToken(): Promise<string | Extract<AttemptResult, { kind: 'retry' }>> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.config.clientId, client_secret: this.config.clientSecret });
    const answer = await request(
      `${this.base}/services/oauth2/token`,
      { method: 'POST', timeoutMs: this.config.timeoutMs, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() },
      'Salesforce /services/oauth2/token',
    );
    if ('kind' in answer) return answer;
    const parsed = parseJson(answer.text) as { access_token?: unknown; error?: string; error_description?: string } | undefined;
    if (answer.status === 200 && typeof parsed?.access_token === 'string') {
      this.accessToken = parsed.access_token;
      return parsed.access_token;
    }
    const said = parsed?.error === undefined ? answer.text.slice(0, 200) : `${parsed.error}: ${parsed.error_description ?? ''}`;
    if (answer.status >= 500)
      return {
        kind: 'retry',
        status: answer.status,
        error: `Salesforce's token endpoint answered ${answer.status}: ${said}`,
        throttled: answer.status === 503,
      };
    return configurationFault(this.config, answer.status, `Salesforce's token endpoint answered ${answer.status}: ${said}`);
  }
}

/** What a whole-request failure (anything but 200 and 401) means for every record of the request (pure). */
export function judgeSalesforceFailure(
  config: Pick<SalesforceDestinationConfig, 'name' | 'apiVersion'>,
  status: number,
  text: string,
  retryAfter: string | null,
  now: number,
): AttemptResult {
  const parsed = parseJson(text);
  const first = Array.isArray(parsed) ? (parsed as RestErrors)[0] : undefined;
  const code = first?.errorCode ?? '';
  const said = first === undefined ? (text === '' ? '' : `: ${text.slice(0, 300)}`) : `: ${code}: ${first.message ?? ''}`;
  const error = `Salesforce answered ${status}${said}`;
  const after = retryAfterMs(retryAfter, now);
  const wait = after === undefined ? {} : { retryAfterMs: after };
  if (status === 403 && code === 'REQUEST_LIMIT_EXCEEDED') return { kind: 'retry', status, error, throttled: true, ...wait };
  if (status === 410) return { kind: 'gone', status, error: `${error} (the API version v${config.apiVersion} is retired: set a newer apiVersion)` };
  if (status === 403 || status === 404 || (status === 400 && CONFIGURATION_CODES.has(code))) return configurationFault(config, status, error);
  if (status === 400) return { kind: 'refused', status, error };
  return { kind: 'retry', status, error, throttled: status === 503, ...wait };
}

/** A failure of the destination's configuration, not of the events: paused and retried, never a dead letter. */
function configurationFault(config: Pick<SalesforceDestinationConfig, 'name'>, status: number, error: string): Extract<AttemptResult, { kind: 'retry' }> {
  return {
    kind: 'retry',
    status,
    error: `${error} (check instanceUrl, apiVersion, clientId, eventObject, erasureObject and clientSecret or ${crmSecretEnvName(config.name, 'CLIENT_SECRET')})`,
    throttled: true,
    configurationFault: true,
  };
}

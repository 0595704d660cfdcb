/**
 * A real gateway (gateway.ts) with one CRM destination, as the CRM tests start it: retries and rate
 * fast enough for a test, stopped when the test ends. And a `crm` consent recorded through the
 * privacy officer's API, as staff collect it.
 */
import { expect, onTestFinished } from 'vitest';

import { startTestGateway, type TestGateway } from './gateway.js';

/** Retry and rate keys of a destination in the tests: a failed attempt is retried within 50–200 ms. */
const TEST_TIMING = { retryMinMs: 50, retryMaxMs: 200, ratePerSecond: 1000 };

/** Starts a gateway whose `sinks.crm.destinations` is `destination` (with the tests' timing unless it sets its own). */
export async function startCrmGateway(influxUrl: string, destination: Record<string, unknown>): Promise<TestGateway> {
  const gw = await startTestGateway({ influxUrl, config: { sinks: { crm: { destinations: [{ ...TEST_TIMING, ...destination }] } } } });
  onTestFinished(() => gw.stop());
  return gw;
}

/** Records a grant or withdrawal of `crm` for the customer at `at` (POST /api/v1/consents); the test fails unless it is recorded. */
export async function recordCrmConsent(gw: TestGateway, customer: string, state: 'granted' | 'withdrawn', at: number, channel = 'staff'): Promise<void> {
  const res = await gw.api('/api/v1/consents', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer, purpose: 'crm', state, at, channel }),
  });
  expect(res.status).toBe(201);
}

/**
 * The live page as an analyst uses it, in headless Chromium (Debian's, driven by playwright-core)
 * against a real gateway on loopback: the login form by keyboard, the session cookie, the page's
 * polling with it, a token revoked by `storeloop tokens revoke` while the page is open, a login link,
 * logout. The page's strict CSP stays as it was: nothing it does is refused.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { connectClient, publishAcked, startTestGateway, tokenPrinted, tokensCli } from './helpers/gateway.js';
import { eventually, useCleanups } from './helpers/lifecycle.js';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let influxd: TestInfluxd;
let browser: Browser;
const cleanups = useCleanups();

beforeAll(async () => {
  influxd = await startInfluxd();
  // playwright gives every launch a new empty user data dir of its own
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});
afterAll(async () => {
  await browser?.close();
  await influxd?.stop();
});

/** A page whose console errors (a CSP refusal among them) are collected. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    // the page's own 401 while logged out is expected; anything else is not
    if (msg.type() === 'error' && !/status of 401/.test(msg.text())) errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return { page, errors };
}

describe('the live page', () => {
  it('logs an analyst in by keyboard, polls with the session cookie, and asks to log in again once the token is revoked', async () => {
    const gw = await startTestGateway({ influxUrl: influxd.url });
    cleanups.push(() => gw.stop());
    const token = tokenPrinted(tokensCli(gw, ['add', '--name', 'page', '--scope', 'analyst']));
    const { page, errors } = await openPage();

    await page.goto(`${gw.httpUrl}/`);
    const field = page.getByLabel('API token');
    await field.waitFor({ state: 'visible' });
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('token'); // focus is in the form: type at once
    expect(await page.locator('#app').isHidden()).toBe(true);

    await page.keyboard.type('sl_000000000000_not-a-token');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').innerText()).toBe('login refused: not a valid token');

    await field.fill(token);
    await page.keyboard.press('Enter');
    await page.locator('section[data-store="demo-store"]').waitFor({ state: 'visible' });
    expect(await page.locator('#session').innerText()).toBe('Logged in as page (analyst).');

    const cookies = await page.context().cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'storeloop_session', httpOnly: true, sameSite: 'Strict', path: '/' })]);
    expect(cookies[0]?.value).not.toContain(token);
    expect(await page.evaluate('document.cookie')).toBe(''); // HttpOnly: no script reads it

    // new data arrives through the page's polling, authenticated by the cookie alone
    const kiosk = await connectClient(gw.mqttUrl, { clientId: 'kiosk-page-test' });
    cleanups.push(() => kiosk.endAsync());
    await publishAcked(kiosk, 'storeloop/demo-store/touchpoint/kiosk-1', { ts: Date.now(), mid: 'page-1', action: 'tap' });
    await eventually(
      () => page.locator('section[data-store="demo-store"]').innerText(),
      (text) => /kiosk-1\s+1/.test(text),
      'the tap on the live page',
    );

    expect(tokensCli(gw, ['revoke', 'page'])).toMatch(/^revoked token /);
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.getByRole('alert').innerText()).toMatch(/^Your session has ended/);
    expect(await page.locator('#stores').innerText()).toBe(''); // the counts are gone with the session
    expect(errors).toEqual([]);
  });

  it('logs in from a link without keeping the token in the address, and logs out by keyboard', async () => {
    const gw = await startTestGateway({ influxUrl: influxd.url });
    cleanups.push(() => gw.stop());
    const token = tokenPrinted(tokensCli(gw, ['add', '--name', 'demo', '--scope', 'analyst', '--expires', '1h']));
    const { page, errors } = await openPage();

    await page.goto(`${gw.httpUrl}/#token=${encodeURIComponent(token)}`);
    await page.locator('section[data-store="demo-store"]').waitFor({ state: 'visible' });
    expect(page.url()).toBe(`${gw.httpUrl}/`);

    await page.locator('#logout').focus();
    await page.keyboard.press('Enter');
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.getByRole('alert').innerText()).toBe('Logged out.');
    await expect.poll(async () => (await page.context().cookies()).map((c) => c.name)).toEqual([]);
    // the ended session opens nothing, even sent by hand
    expect((await page.request.get(`${gw.httpUrl}/api/v1/live`)).status()).toBe(401);
    expect(errors).toEqual([]);
  });
});

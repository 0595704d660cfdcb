/**
 * The analyst pages as an analyst uses them, in headless Chromium (Debian's, driven by
 * playwright-core) against a gateway fed by a seeded simulation of the demo store through a real
 * influxd: login, every page drawn with data and without console errors, axe-core's accessibility
 * check, the pickers, the keyboard, the overview's numbers against the metrics API, the live counts,
 * the session ending. Screenshots of each page are written to test-results/dashboards/.
 */
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_STORE } from '../config/index.js';
import { launchHeadlessChromium } from '../devtools/headless-chromium.js';
import { connectClient, metricValue, publishAcked, tokenPrinted, tokensCli } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually, useCleanups } from './helpers/lifecycle.js';
import { startSimulatedStore, type SimulatedStore } from './helpers/simulated-store.js';

const ARTIFACTS = join(import.meta.dirname, '..', 'test-results', 'dashboards');
const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Monday 30 November 2026, 11:10–12:00 in Paris: the store open, a fixed window so every run shows the same. */
const END = Date.UTC(2026, 10, 30, 11);
const DAY = '2026-11-30';
const RANGE = `${DAY}..${DAY}`;
/** The pages with the figures each must draw with data. */
const PAGES = ['overview', 'floor', 'dwell', 'engagement', 'feedback', 'shelves', 'devices', 'pipeline'] as const;
const SECOND_STORE = { ...DEMO_STORE, id: 'second-store', name: 'Second store (no data)' };

let influxd: TestInfluxd;
let sim: SimulatedStore;
let browser: Browser;
let analystToken: string;
const cleanups = useCleanups();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  influxd = await startInfluxd();
  sim = await startSimulatedStore(influxd, { seed: 14, endMs: END, durationMs: 50 * 60_000, config: { stores: [DEMO_STORE, SECOND_STORE] } });
  analystToken = tokenPrinted(tokensCli(sim.gw, ['add', '--name', 'analyst', '--scope', 'analyst']));
  // an installer's mistake, for the pipeline page's rejections: a scanner's message that is not JSON
  const scanner = await connectClient(sim.gw.mqttUrl, { clientId: 'dashboards-bad-scanner' });
  await scanner.publishAsync('storeloop/demo-store/ble/ble-entrance', 'not json', { qos: 0 });
  await scanner.endAsync();
  await eventually(
    () => metricValue(sim.gw.httpUrl, 'storeloop_messages_rejected_total', { store: 'demo-store', kind: 'ble', reason: 'json_invalid' }),
    (n) => n >= 1,
    'the bad message rejected',
  );
  browser = await launchHeadlessChromium();
}, 150_000);
afterAll(async () => {
  await browser?.close();
  await sim?.gw.stop();
  await influxd?.stop();
});

/** A browser context of its own, its console errors (a CSP refusal among them) collected. */
async function newContext(): Promise<{ context: BrowserContext; errors: string[]; open: () => Promise<Page> }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  cleanups.push(() => context.close());
  const errors: string[] = [];
  const open = async () => {
    const page = await context.newPage();
    page.on('console', (msg) => {
      // the page's own 401 while logged out is expected; anything else is not
      if (msg.type() === 'error' && !/status of 401/.test(msg.text())) errors.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`${page.url()}: ${err.message}`));
    return page;
  };
  return { context, errors, open };
}

/** Logged in through the login form's API (the cookie goes to the context), then the page opened at `hash`. */
async function loggedIn(hash: string): Promise<{ page: Page; errors: string[]; open: () => Promise<Page> }> {
  const { context, errors, open } = await newContext();
  const res = await context.request.post(`${sim.gw.httpUrl}/api/v1/session`, { data: { token: analystToken } });
  expect(res.status()).toBe(201);
  const page = await open();
  await page.goto(`${sim.gw.httpUrl}/${hash}`);
  await ready(page);
  return { page, errors, open };
}

async function ready(page: Page): Promise<void> {
  await page.locator('html[data-ready="true"]').waitFor({ state: 'attached', timeout: 20_000 });
}

async function axeViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  await page.evaluate(await AXE_SOURCE);
  // browser-side code as text: this file is compiled for node, without the DOM's types
  return page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))`);
}

describe('the analyst pages', () => {
  it('draw every figure of every page with data, with no console error and no serious accessibility fault', async () => {
    const { errors, open } = await loggedIn(`#/overview?store=demo-store&range=${RANGE}`);
    for (const id of PAGES) {
      const page = await open();
      await page.goto(`${sim.gw.httpUrl}/#/${id}?store=demo-store&range=${RANGE}`);
      await ready(page);
      const figures = page.locator('figure');
      expect(await figures.count(), id).toBeGreaterThan(0);
      for (const text of await figures.allInnerTexts()) {
        expect(text, `${id}: a figure without data`).not.toMatch(/No data|No .* in this range|Could not load|Loading/);
      }
      // each figure draws its data: a chart (uPlot's canvas), bars, a floor plan or a table's rows
      for (const figure of await figures.all()) {
        const drawn = await figure.locator('.chart canvas, .bar-list li, .funnel li, svg.floor-plan g[data-zone], tbody tr').count();
        expect(drawn, `${id}: ${await figure.getAttribute('data-figure')}`).toBeGreaterThan(0);
      }
      if (id === 'floor') expect(await page.locator('svg.floor-plan g[data-zone]').count()).toBe(DEMO_STORE.zones.length);
      const serious = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious, `${id}: axe-core`).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, `${id}.png`), fullPage: true });
      await page.close();
    }
    expect(errors).toEqual([]);
  });

  it("shows the overview's figures exactly as the metrics API answers them for the same range", async () => {
    const { page, errors } = await loggedIn(`#/overview?store=demo-store&range=${RANGE}`);
    const from = new Date(Date.parse(`${DAY}T00:00:00+01:00`)).toISOString();
    const to = new Date(Date.parse(`${DAY}T00:00:00+01:00`) + 86_400_000).toISOString();
    const api = async (metric: string) => {
      const res = await page.request.get(`${sim.gw.httpUrl}/api/v1/stores/demo-store/metrics?metric=${metric}&from=${from}&to=${to}&interval=1h`);
      expect(res.status()).toBe(200);
      return (await res.json()) as { series: { measurement: string; labels: Record<string, string>; total: Record<string, number | null> }[] };
    };
    const kpi = (id: string) => page.locator(`[data-kpi="${id}"] .kpi-value`).innerText();
    const fused = (await api('footfall')).series.find((s) => s.labels['method'] === 'fused')!;
    const visits = (await api('visits')).series.find((s) => s.measurement === 'visit')!;
    const capture = (await api('capture')).series.find((s) => s.total['capture_rate'] !== undefined)!;
    expect(fused.total['count']).toBeGreaterThan(0);
    expect(await kpi('footfall')).toBe(fused.total['count']!.toLocaleString('en-GB', { maximumFractionDigits: 1 }));
    expect(await kpi('visit-duration')).toBe(`${(visits.total['mean_duration_s']! / 60).toLocaleString('en-GB', { maximumFractionDigits: 1 })} min`);
    expect(await kpi('capture')).toBe(`${(100 * capture.total['capture_rate']!).toLocaleString('en-GB', { maximumFractionDigits: 0 })} %`);
    // the hourly chart's table holds the same hours as the API
    await page.getByText('Table of footfall per hour').click();
    const hours = await page.locator('figure[data-figure="Footfall per hour"] .data-table tbody tr').count();
    expect(hours).toBe(24);
    expect(errors).toEqual([]);
  });

  it('follows the store and range pickers, in the address bar too', async () => {
    const { page, errors } = await loggedIn(`#/overview?store=demo-store&range=${RANGE}`);
    const footfall = page.locator('[data-kpi="footfall"] .kpi-value');
    const withData = await footfall.innerText();
    expect(withData).not.toBe('–');
    // a week later: nothing simulated
    await page.getByLabel('From').fill('2026-12-07');
    await page.getByLabel('to', { exact: true }).fill('2026-12-07');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.url()).toContain('range=2026-12-07..2026-12-07');
    await ready(page);
    expect(await footfall.innerText()).toBe('–'); // no figure, not a confident 0
    expect(await page.locator('[data-kpi="footfall"] .kpi-detail').innerText()).toBe('No data in this range.');
    await page.getByLabel('Range', { exact: true }).selectOption('yesterday');
    await expect.poll(() => page.url()).toContain('range=yesterday');
    // back to the simulated day, then the other store: no data there
    await page.goto(`${sim.gw.httpUrl}/#/overview?store=demo-store&range=${RANGE}`);
    await expect.poll(() => footfall.innerText()).toBe(withData);
    await page.getByLabel('Store', { exact: true }).selectOption('second-store');
    await expect.poll(() => page.url()).toContain('store=second-store');
    await ready(page);
    expect(await footfall.innerText()).toBe('–');
    expect(await page.locator('h1').innerText()).toContain('Second store (no data)');
    expect(errors).toEqual([]);
  });

  it('fits a tablet in portrait without scrolling sideways', async () => {
    const { page, errors } = await loggedIn(`#/overview?store=demo-store&range=${RANGE}`);
    await page.setViewportSize({ width: 768, height: 1024 });
    for (const id of PAGES) {
      await page.goto(`${sim.gw.httpUrl}/#/${id}?store=demo-store&range=${RANGE}`);
      await page.reload();
      await ready(page);
      expect(await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth'), id).toBeLessThanOrEqual(0);
    }
    expect(errors).toEqual([]);
  });

  it('lets the keyboard reach every control of a page', async () => {
    const { page, errors } = await loggedIn(`#/floor?store=demo-store&range=${RANGE}`);
    const controls = await page.evaluate<string[]>(`[...document.querySelectorAll('a[href], button, select, input, summary')]
      // a radio group is one stop of the tab order (its checked radio); arrow keys move inside it
      .filter((el) => el.offsetParent !== null && !(el.type === 'radio' && !el.checked))
      .map((el, i) => (el.dataset.k = String(i)))`);
    const reached = new Set<string>();
    for (let i = 0; i < controls.length + 10; i += 1) {
      await page.keyboard.press('Tab');
      const k = await page.evaluate<string | undefined>('document.activeElement?.dataset.k');
      if (k !== undefined) reached.add(k);
    }
    expect([...reached].sort()).toEqual([...controls].sort());
    // the time scrubber moves by keyboard and says where it is
    await page.locator('#scrubber').focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.locator('output[for="scrubber"]').innerText()).toMatch(/30\/11\/2026, 00:00:00 \(1h\)/);
    expect(errors).toEqual([]);
  });

  it('shows new live counts without a reload', async () => {
    const { page, errors } = await loggedIn(`#/overview?store=demo-store&range=${RANGE}`);
    const now = page.locator('[data-kpi="devices-now"] .kpi-value');
    await expect.poll(() => now.innerText()).not.toBe('–');
    const before = Number(await now.innerText());
    const scanner = await connectClient(sim.gw.mqttUrl, { clientId: 'dashboards-live-test' });
    cleanups.push(() => scanner.endAsync());
    const sightings = [1, 2, 3].map((n) => ({ id: `ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:9:${n}`, rssi: -60 }));
    await publishAcked(scanner, 'storeloop/demo-store/ble/ble-entrance', { v: 1, mid: 'live-1', ts: Date.now(), sightings });
    await eventually(
      async () => Number(await now.innerText()),
      (n) => n >= before + 3,
      'the three new devices on the overview',
      15_000,
    );
    expect(errors).toEqual([]);
  });
});

describe('login and the session', () => {
  it('logs an analyst in by keyboard, keeps no token in script, and asks to log in again once the token is revoked', async () => {
    const token = tokenPrinted(tokensCli(sim.gw, ['add', '--name', 'page', '--scope', 'analyst']));
    const { context, errors, open } = await newContext();
    const page = await open();
    await page.goto(`${sim.gw.httpUrl}/`);
    const field = page.getByLabel('API token');
    await field.waitFor({ state: 'visible' });
    expect(await page.evaluate('document.activeElement?.id')).toBe('token'); // type at once
    await page.keyboard.type('sl_000000000000_not-a-token');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').innerText()).toBe('login refused: not a valid token');

    await field.fill(token);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Pages' }).waitFor({ state: 'visible' });
    expect(await page.locator('header .session').innerText()).toContain('page');
    const cookies = await context.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'storeloop_session', httpOnly: true, sameSite: 'Strict', path: '/' })]);
    expect(cookies[0]?.value).not.toContain(token);
    expect(await page.evaluate('document.cookie')).toBe(''); // HttpOnly: no script reads it

    expect(tokensCli(sim.gw, ['revoke', 'page'])).toMatch(/^revoked token /);
    await page.locator('form.login').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.getByRole('alert').innerText()).toMatch(/^Your session has ended/);
    expect(await page.locator('figure').count()).toBe(0); // the figures are gone with the session
    expect(errors).toEqual([]);
  });

  it('logs in from a link without keeping the token in the address, and logs out by keyboard', async () => {
    const token = tokenPrinted(tokensCli(sim.gw, ['add', '--name', 'demo', '--scope', 'analyst', '--expires', '1h']));
    const { context, errors, open } = await newContext();
    const page = await open();
    await page.goto(`${sim.gw.httpUrl}/#token=${encodeURIComponent(token)}`);
    await page.getByRole('navigation', { name: 'Pages' }).waitFor({ state: 'visible' });
    expect(page.url()).toBe(`${sim.gw.httpUrl}/#/overview`);

    await page.getByRole('button', { name: 'Log out' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('form.login').waitFor({ state: 'visible' });
    expect(await page.getByRole('alert').innerText()).toBe('Logged out.');
    await expect.poll(async () => (await context.cookies()).map((c) => c.name)).toEqual([]);
    // the ended session opens nothing, even sent by hand
    expect((await page.request.get(`${sim.gw.httpUrl}/api/v1/live`)).status()).toBe(401);
    expect(errors).toEqual([]);
  });
});

/**
 * `npm run dashboards-ready -- --url URL --token TOKEN`: how long each analyst page takes in
 * headless Chromium (Debian's, driven by playwright-core) from navigation to its ready marker
 * (`storeloop-ready`: every figure has its data and is drawn), against a running gateway (the demo's,
 * with its eight days of history). Beside it, as the reference measured in the same run on the same
 * gateway and browser, the OpenAPI UI's page (/docs) from navigation to its load event. Reports
 * medians over the runs and the ratio to the reference.
 */
import { Command } from 'commander';

import { launchHeadlessChromium } from '../devtools/headless-chromium.js';

const PAGES = ['overview', 'floor', 'dwell', 'engagement', 'feedback', 'shelves', 'devices', 'pipeline'];

interface Options {
  url: string;
  token: string;
  runs: string;
  range: string;
  store?: string;
}

/** The median of a few timings. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

async function main(opts: Options): Promise<void> {
  const runs = Number(opts.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number ≥ 1, not '${opts.runs}'`);
  const base = opts.url.replace(/\/$/, '');
  const browser = await launchHeadlessChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const login = await context.request.post(`${base}/api/v1/session`, { data: { token: opts.token } });
    if (login.status() !== 201) throw new Error(`login refused (HTTP ${login.status()}): ${await login.text()}`);
    const page = await context.newPage();
    const timings = new Map<string, number[]>();
    const record = (name: string, ms: number) => timings.set(name, [...(timings.get(name) ?? []), ms]);
    const query = `?range=${encodeURIComponent(opts.range)}${opts.store ? `&store=${encodeURIComponent(opts.store)}` : ''}`;
    for (let run = 0; run < runs; run += 1) {
      await page.goto(`${base}/docs`, { waitUntil: 'load' });
      record('reference: /docs (OpenAPI UI) load', await page.evaluate<number>(`Math.round(performance.getEntriesByType('navigation')[0].loadEventEnd)`));
      for (const id of PAGES) {
        // a new document each time: the navigation is the clock's zero
        await page.goto('about:blank');
        await page.goto(`${base}/#/${id}${query}`);
        await page.locator('html[data-ready="true"]').waitFor({ state: 'attached', timeout: 30_000 });
        record(id, await page.evaluate<number>(`Math.round(performance.getEntriesByName('storeloop-ready')[0].startTime)`));
      }
    }
    const reference = median(timings.get('reference: /docs (OpenAPI UI) load') ?? []);
    process.stdout.write(`navigation → ready, headless Chromium, ${runs} runs, range ${opts.range}, ${base}\n`);
    process.stdout.write(`${'page'.padEnd(40)} ${'median ms'.padStart(10)} ${'max ms'.padStart(8)} ${'× reference'.padStart(12)}\n`);
    for (const [name, values] of timings) {
      const mid = median(values);
      process.stdout.write(
        `${name.padEnd(40)} ${String(Math.round(mid)).padStart(10)} ${String(Math.max(...values)).padStart(8)} ${(mid / reference).toFixed(2).padStart(12)}\n`,
      );
    }
  } finally {
    await browser.close();
  }
}

const program = new Command('dashboards-ready')
  .description("how long each analyst page takes from navigation to its ready marker, against a running gateway (e.g. the demo's)")
  .requiredOption('--url <url>', 'the gateway, e.g. http://127.0.0.1:8080')
  .requiredOption('--token <token>', 'an API token with the analyst scope (the demo prints one)')
  .option('--runs <n>', 'times each page is loaded', '5')
  .option('--range <range>', "the pages' range: today, yesterday, last7, last28 or FROM..TO dates", 'today')
  .option('--store <id>', 'the store (default: the first)')
  .action(async (opts: Options) => main(opts));

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`dashboards-ready: ${(err as Error).message}\n`);
  process.exitCode = 1;
});

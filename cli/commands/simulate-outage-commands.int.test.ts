/** `storeloop simulate --scenario` with an influx_outage: the event's own shell commands stop and start the database. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseScenario } from '../../simulators/index.js';
import { commandOutageControl } from './simulate-command.js';

describe('InfluxDB outage commands', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storeloop-outage-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the event's stop and start commands with /bin/sh and reports a failing one with its stderr", async () => {
    const marker = join(dir, 'influx.log');
    const stop = `echo stopped >> ${marker}`;
    const start = `echo started >> ${marker}`;
    const scenario = parseScenario({ name: 'outage', events: [{ type: 'influx_outage', at: '1m', for: '1m', stop, start }] });
    const control = commandOutageControl(scenario, () => undefined);
    const event = { type: 'influx_outage' as const, from: 0, to: 60_000, stop, start };
    await control?.(event, 'stop');
    await control?.(event, 'start');
    expect(await readFile(marker, 'utf8')).toBe('stopped\nstarted\n');
    await expect(control?.({ ...event, stop: 'echo no such service >&2; exit 3' }, 'stop')).rejects.toThrow(
      /the InfluxDB stop command failed: .*no such service/,
    );
  });
});

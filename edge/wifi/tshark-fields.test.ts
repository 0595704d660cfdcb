import { describe, expect, it } from 'vitest';

import { createPseudonymiser } from '../pseudonymise/pseudonymiser.js';
import { PROBE_FIELDS, dumpcapArgs, parseProbeLine, tsharkFieldArgs } from './tshark-fields.js';

const pseudonymiser = createPseudonymiser({ mode: 'daily', secret: 'retailer-secret-for-tests-0123456789', timezone: 'UTC' });

describe('tshark command lines', () => {
  it('request time, transmitter and signal only, never the SSID', () => {
    const args = tsharkFieldArgs('capture.pcap');
    expect(args.filter((_, i) => args[i - 1] === '-e')).toEqual(['frame.time_epoch', 'wlan.sa', 'radiotap.dbm_antsignal']);
    expect(args.join(' ')).not.toMatch(/ssid/i);
    expect(args).toEqual(expect.arrayContaining(['-n', '-l', '-r', 'capture.pcap', '-Y', 'wlan.fc.type_subtype == 4']));
  });

  it('capture a live interface with dumpcap into a FIFO, filtered to probe requests in the kernel', () => {
    expect(dumpcapArgs('wlan1mon', '/run/x/probes.pcapng')).toEqual(['-q', '-i', 'wlan1mon', '-f', 'type mgt subtype probe-req', '-w', '/run/x/probes.pcapng']);
  });
});

describe('parseProbeLine', () => {
  // lines of the actual tshark 4.0.17 output in probe-requests.md (without the ssid column)
  it('turns a line into a pseudonymised frame with millisecond capture time', () => {
    const parsed = parseProbeLine('1717768801.270512000\t02:00:5e:00:53:a1\t-73', pseudonymiser);
    expect(parsed).toEqual({
      ok: true,
      frame: { atMs: 1717768801270, id: pseudonymiser.pseudonymise('wifi-mac', '02:00:5e:00:53:a1', 1717768801270), rssi: -73, randomized: true },
    });
    expect(JSON.stringify(parsed)).not.toContain('53:a1');
  });

  it('flags only locally administered transmitters as randomized', () => {
    const frame = (line: string) => {
      const parsed = parseProbeLine(line, pseudonymiser);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.frame;
    };
    expect(frame('1717768800.102400000\t00:00:5e:00:53:11\t-48').randomized).toBe(false);
    expect(frame('1717768805.000125000\tda:00:5e:00:53:b1\t-57').randomized).toBe(true);
    expect(frame('1717768834.750000000\t5e:00:5e:00:53:b2\t-59').randomized).toBe(true);
  });

  it('reads time_epoch without float rounding and accepts whole seconds', () => {
    const at = (time: string) => {
      const parsed = parseProbeLine(`${time}\t00:00:5e:00:53:11\t-48`, pseudonymiser);
      return parsed.ok ? parsed.frame.atMs : parsed.reason;
    };
    expect(at('1717768841.333333000')).toBe(1717768841333);
    expect(at('1717768841.9999')).toBe(1717768841999);
    expect(at('1717768841')).toBe(1717768841000);
    expect(at('1717768841.5')).toBe(1717768841500);
  });

  it.each([
    ['1717768800.1\t00:00:5e:00:53:11', 'fields_missing'],
    ['1717768800.1\t00:00:5e:00:53:11\t-48\t53746f72654f7073', 'fields_missing'],
    ['yesterday\t00:00:5e:00:53:11\t-48', 'time_invalid'],
    ['1717768800.1\t\t-48', 'sa_invalid'],
    ['1717768800.1\tICANNIAN_00:53:11\t-48', 'sa_invalid'],
    ['1717768800.1\tff:ff:ff:ff:ff:ff\t-48', 'sa_group'],
    ['1717768800.1\t00:00:5e:00:53:11\t', 'rssi_missing'],
    ['1717768800.1\t00:00:5e:00:53:11\t-200', 'rssi_out_of_range'],
    ['1717768800.1\t00:00:5e:00:53:11\t-48,-50', 'rssi_out_of_range'],
  ])('rejects %j as %s', (line, reason) => {
    expect(parseProbeLine(line, pseudonymiser)).toEqual({ ok: false, reason });
  });

  it('has one field per requested column', () => {
    expect(PROBE_FIELDS).toHaveLength(3);
  });
});

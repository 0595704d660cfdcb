/**
 * 802.11 probe requests as tshark prints them with `-T fields` (../shared/samples/probe-requests.md):
 * the command lines, and the parser that turns one output line into a pseudonymised frame.
 *
 * Only three fields are requested: time, transmitter address and signal. The SSID field is never
 * requested, so SSIDs (people's home and work networks) never reach this process at all.
 */
import type { Pseudonym } from '../../protocol/index.js';
import { isLocallyAdministered, isMulticastMac, normaliseMac } from '../pseudonymise/mac.js';
import type { Pseudonymiser } from '../pseudonymise/pseudonymiser.js';

/** Display filter: management frame, subtype 4 (IEEE 802.11 probe request). */
export const PROBE_REQUEST_FILTER = 'wlan.fc.type_subtype == 4';
/** Capture (BPF) filter for a live monitor interface: drops everything else in the kernel. */
export const PROBE_CAPTURE_FILTER = 'type mgt subtype probe-req';
export const PROBE_FIELDS = ['frame.time_epoch', 'wlan.sa', 'radiotap.dbm_antsignal'] as const;

/**
 * tshark reading a capture file or FIFO in one pass: `-n` keeps
 * addresses unresolved, `-l` flushes every line, `occurrence=f` takes the first antenna's signal.
 */
export function tsharkFieldArgs(read: string): string[] {
  return [
    '-n',
    '-l',
    '-r',
    read,
    '-Y',
    PROBE_REQUEST_FILTER,
    '-T',
    'fields',
    '-E',
    'separator=/t',
    '-E',
    'occurrence=f',
    ...PROBE_FIELDS.flatMap((field) => ['-e', field]),
  ];
}

/**
 * dumpcap writing the probe requests of a monitor interface as a pcapng stream into a FIFO (which
 * it flushes after every packet). `tshark -i` would spool every captured frame, addresses and SSIDs
 * included, to a temporary file that grows for as long as the capture runs.
 */
export function dumpcapArgs(iface: string, fifo: string): string[] {
  return ['-q', '-i', iface, '-f', PROBE_CAPTURE_FILTER, '-w', fifo];
}

/** A probe request after the parser: the address is already a pseudonym. */
export interface ProbeFrame {
  /** Capture time, epoch ms. */
  atMs: number;
  id: Pseudonym;
  /** dBm, radiotap antenna signal. */
  rssi: number;
  /** The transmitter address was locally administered (randomised). */
  randomized: boolean;
}

export const PROBE_LINE_REJECTIONS = {
  fields_missing: `expected ${PROBE_FIELDS.length} tab-separated fields`,
  time_invalid: 'frame.time_epoch is not an epoch time',
  sa_invalid: 'wlan.sa is not a MAC address',
  sa_group: 'wlan.sa is a group (multicast) address, never a transmitter',
  rssi_missing: 'no radiotap.dbm_antsignal (capture without signal strength)',
  rssi_out_of_range: 'signal outside -127..20 dBm',
} as const;
export type ProbeLineRejection = keyof typeof PROBE_LINE_REJECTIONS;

export type ParsedProbeLine = { ok: true; frame: ProbeFrame } | { ok: false; reason: ProbeLineRejection };

const EPOCH = /^(\d{1,13})(?:\.(\d{1,9}))?$/;
const DBM = /^-?\d{1,4}$/;

/**
 * Parses one output line. The raw address stays inside this function: what comes out is its
 * pseudonym at the frame's capture time and its locally-administered flag.
 */
export function parseProbeLine(line: string, pseudonymiser: Pseudonymiser): ParsedProbeLine {
  const fields = line.replace(/\r$/, '').split('\t');
  if (fields.length !== PROBE_FIELDS.length) return { ok: false, reason: 'fields_missing' };
  const [time = '', sa = '', signal = ''] = fields;
  const epoch = EPOCH.exec(time);
  if (epoch === null) return { ok: false, reason: 'time_invalid' };
  // integer arithmetic: a float parse of "1717768801.270512000" would round the millisecond
  const atMs = Number(epoch[1]) * 1000 + Number((epoch[2] ?? '').padEnd(3, '0').slice(0, 3));
  if (normaliseMac(sa) === undefined) return { ok: false, reason: 'sa_invalid' };
  if (isMulticastMac(sa)) return { ok: false, reason: 'sa_group' };
  if (signal === '') return { ok: false, reason: 'rssi_missing' };
  const rssi = DBM.test(signal) ? Number(signal) : Number.NaN;
  if (!(rssi >= -127 && rssi <= 20)) return { ok: false, reason: 'rssi_out_of_range' };
  return { ok: true, frame: { atMs, id: pseudonymiser.pseudonymise('wifi-mac', sa, atMs), rssi, randomized: isLocallyAdministered(sa) } };
}

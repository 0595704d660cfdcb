/**
 * Debian's Chromium, headless, driven by playwright-core (which downloads no browser of its own): for
 * the pages' browser tests and the pages' bench. The flags keep it on loopback and quiet (no GPU, no
 * QUIC, no background fetches, no updates or sync).
 */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchHeadlessChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS });
}

/** The built-in demo store: used when the gateway runs without a config file, and by the simulator. */
import type { ConfigInput } from './schema.js';

export const DEMO_STORE_ID = 'demo-store';

export const DEMO_STORE: NonNullable<ConfigInput['stores']>[number] = {
  id: DEMO_STORE_ID,
  name: 'Demo store (high street)',
  timezone: 'Europe/Paris',
  zones: [
    { id: 'entrance', name: 'Entrance', kind: 'entrance' },
    { id: 'aisle-women', name: 'Women', kind: 'aisle' },
    { id: 'aisle-men', name: 'Men', kind: 'aisle' },
    { id: 'aisle-shoes', name: 'Shoes', kind: 'aisle' },
    { id: 'fitting-rooms', name: 'Fitting rooms', kind: 'fitting_room' },
    { id: 'checkout', name: 'Checkout', kind: 'checkout' },
  ],
  sensors: [
    { id: 'ble-entrance', type: 'ble', zone: 'entrance' },
    { id: 'ble-women', type: 'ble', zone: 'aisle-women' },
    { id: 'ble-men', type: 'ble', zone: 'aisle-men' },
    { id: 'ble-shoes', type: 'ble', zone: 'aisle-shoes' },
    { id: 'ble-fitting', type: 'ble', zone: 'fitting-rooms' },
    { id: 'ble-checkout', type: 'ble', zone: 'checkout' },
    { id: 'wifi-front', type: 'wifi', zone: 'entrance' },
    { id: 'wifi-back', type: 'wifi', zone: 'fitting-rooms' },
  ],
  touchpoints: [
    { id: 'kiosk-1', type: 'kiosk', zone: 'aisle-women', name: 'Lookbook kiosk' },
    { id: 'mirror-1', type: 'mirror', zone: 'fitting-rooms', name: 'Smart mirror' },
    { id: 'qr-shoes', type: 'qr', zone: 'aisle-shoes', name: 'Shoe wall QR code' },
    { id: 'feedback-1', type: 'feedback', zone: 'checkout', name: 'Exit smiley terminal' },
  ],
  devices: [
    /**
     * The installer's accuracy audit of the door counter: two hours counted by hand on installation
     * day. For the demo store that day is simulated: seed 900, Monday 2 November 2026, 14:00-16:00 in
     * Paris, every option at its default; a seed the accuracy is neither tuned nor reported on
     * (simulators/counter-audit.test.ts recomputes it).
     */
    { id: 'counter-door', type: 'people_counter', zone: 'entrance', audit: { counted: 247, actual: 263, on: '2026-11-02' } },
    { id: 'shelf-shoes', type: 'smart_shelf', zone: 'aisle-shoes' },
    { id: 'env-floor', type: 'environment', zone: 'aisle-men' },
  ],
  agents: [{ id: 'edge-1' }],
  openingHours: { mon: '10:00-19:30', tue: '10:00-19:30', wed: '10:00-19:30', thu: '10:00-19:30', fri: '10:00-20:00', sat: '09:30-20:00', sun: 'closed' },
  /**
   * A 24 m × 18 m high-street shop, the door at the front middle (y = 0 is the shop front): the
   * entrance between womenswear (left) and the tills (right), shoes and menswear behind, the fitting
   * rooms at the back left, reached through womenswear. BLE scanners hang at their zone's centre, the
   * wifi sensors where the ceiling has power.
   */
  layout: {
    widthM: 24,
    depthM: 18,
    zones: {
      entrance: { rect: { x: 8, y: 0, width: 6, height: 5 } },
      checkout: { rect: { x: 14, y: 0, width: 10, height: 5 } },
      'aisle-women': { rect: { x: 0, y: 0, width: 8, height: 12 } },
      'aisle-shoes': { rect: { x: 8, y: 5, width: 6, height: 13 } },
      'aisle-men': { rect: { x: 14, y: 5, width: 10, height: 13 } },
      'fitting-rooms': { rect: { x: 0, y: 12, width: 8, height: 6 } },
    },
    sensors: {
      'ble-entrance': { x: 11, y: 2.5, rssiAt1m: -59 },
      'ble-women': { x: 4, y: 6 },
      'ble-men': { x: 19, y: 11.5 },
      'ble-shoes': { x: 11, y: 11.5 },
      // above the fitting rooms' metal rails: reads 3 dB under a free-hanging scanner at 1 m
      'ble-fitting': { x: 4, y: 15, rssiAt1m: -62 },
      'ble-checkout': { x: 19, y: 2.5 },
      'wifi-front': { x: 12.5, y: 3.5 },
      'wifi-back': { x: 5, y: 14 },
    },
    touchpoints: {
      'kiosk-1': { x: 7.5, y: 3 },
      'mirror-1': { x: 1, y: 15 },
      'qr-shoes': { x: 13.5, y: 9 },
      'feedback-1': { x: 15, y: 0.5 },
    },
    doors: [{ x: 11, y: 0, zone: 'entrance', name: 'Shop front' }],
  },
};

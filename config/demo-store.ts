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
    { id: 'counter-door', type: 'people_counter', zone: 'entrance' },
    { id: 'shelf-shoes', type: 'smart_shelf', zone: 'aisle-shoes' },
    { id: 'env-floor', type: 'environment', zone: 'aisle-men' },
  ],
  agents: [{ id: 'edge-1' }],
};

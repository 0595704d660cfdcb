import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema, type StoreConfig } from '../config/index.js';
import { buildFloorPlan, shortestRoute, type FloorPlan, type ZoneRect } from './floor-plan.js';

const demo = StoreSchema.parse(DEMO_STORE);

function gridStore(zoneKinds: Array<StoreConfig['zones'][number]['kind']>): StoreConfig {
  return StoreSchema.parse({
    id: 'grid-store',
    zones: zoneKinds.map((kind, i) => ({ id: `z${i}`, kind })),
    sensors: zoneKinds.map((_, i) => ({ id: `ble-${i}`, type: 'ble', zone: `z${i}` })),
  });
}

function overlapArea(a: ZoneRect, b: ZoneRect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

function reachable(plan: FloorPlan, from: string): Set<string> {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length > 0) {
    for (const next of plan.adjacency[queue.shift() as string] ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return seen;
}

function expectSoundPlan(plan: FloorPlan, store: StoreConfig): void {
  expect(plan.zones.map((z) => z.id).sort()).toEqual(store.zones.map((z) => z.id).sort());
  for (const a of plan.zones) {
    expect(a.width).toBeGreaterThan(0);
    for (const b of plan.zones) if (a !== b) expect(overlapArea(a, b), `${a.id} overlaps ${b.id}`).toBe(0);
    for (const n of plan.adjacency[a.id] ?? []) expect(plan.adjacency[n], `${a.id}↔${n}`).toContain(a.id);
  }
  expect(reachable(plan, plan.entrances[0] as string).size).toBe(plan.zones.length);
  for (const sensor of plan.sensors) {
    const zone = plan.zones.find((z) => z.id === sensor.zone) as ZoneRect;
    expect(sensor.x >= zone.x && sensor.x <= zone.x + zone.width && sensor.y >= zone.y && sensor.y <= zone.y + zone.height, sensor.id).toBe(true);
  }
  expect(plan.sensors.map((s) => s.id)).toEqual(store.sensors.map((s) => s.id));
}

describe('demo floor plan', () => {
  const plan = buildFloorPlan(demo);

  it("is the config's layout, with every sensor inside its zone", () => {
    expect(plan.layout).toBe('config');
    expect(plan.entrances).toEqual(['entrance']);
    expect(plan.doors).toEqual([{ x: 11, y: 0, zone: 'entrance' }]);
    expect([plan.widthM, plan.depthM]).toEqual([24, 18]);
    expect(plan.zones.find((z) => z.id === 'aisle-shoes')).toEqual({ id: 'aisle-shoes', kind: 'aisle', x: 8, y: 5, width: 6, height: 13 });
    expect(plan.sensors.find((s) => s.id === 'wifi-front')).toEqual({ id: 'wifi-front', type: 'wifi', zone: 'entrance', x: 12.5, y: 3.5, rssiAt1m: -45 });
    expect(plan.sensors.find((s) => s.id === 'ble-fitting')?.rssiAt1m).toBe(-62);
    expect(plan.touchpoints.map((t) => t.id)).toEqual(demo.touchpoints.map((t) => t.id));
    expectSoundPlan(plan, demo);
  });

  it('connects the entrance to the aisles and the checkout, and the fitting rooms only from the back', () => {
    expect(plan.adjacency.entrance).toEqual(expect.arrayContaining(['aisle-women', 'aisle-shoes', 'checkout']));
    expect(plan.adjacency.entrance).not.toContain('fitting-rooms');
    expect(shortestRoute(plan, 'entrance', 'fitting-rooms')).toHaveLength(3);
    expect(shortestRoute(plan, 'checkout', 'checkout')).toEqual(['checkout']);
  });

  it('has three fixed Eddystone beacons (inside the door, fitting rooms, checkout), the same for every run', () => {
    expect(plan.beacons.map((b) => [b.zone, b.x, b.y])).toEqual([
      ['entrance', 11, 0.5],
      ['fitting-rooms', 4, 15],
      ['checkout', 19, 2.5],
    ]);
    for (const b of plan.beacons) expect(b.id).toMatch(/^eddystone:[0-9a-f]{20}:[0-9a-f]{12}$/);
    expect(buildFloorPlan(demo).beacons).toEqual(plan.beacons);
  });
});

describe('grid floor plan for other stores', () => {
  it.each([1, 2, 3, 5, 10, 17])('lays out %d zones connected, without overlap', (n) => {
    const kinds = Array.from({ length: n }, (_, i): StoreConfig['zones'][number]['kind'] => (i === 0 ? 'entrance' : 'aisle'));
    const store = gridStore(kinds);
    const plan = buildFloorPlan(store);
    expect(plan.layout).toBe('grid');
    expectSoundPlan(plan, store);
  });

  it('uses the first zone as entrance when no zone is of kind entrance', () => {
    const plan = buildFloorPlan(gridStore(['aisle', 'checkout', 'other']));
    expect(plan.entrances).toEqual(['z0']);
  });

  it('puts entrance zones first, wherever they are in the config', () => {
    const plan = buildFloorPlan(gridStore(['aisle', 'aisle', 'entrance', 'checkout']));
    expect(plan.entrances).toEqual(['z2']);
    expect(plan.zones[0]).toMatchObject({ id: 'z2', x: 0, y: 0 });
  });

  it('lays out a store with the demo id but no layout on a grid', () => {
    const store = StoreSchema.parse({
      ...DEMO_STORE,
      layout: undefined,
      zones: [
        { id: 'door', kind: 'entrance' },
        { id: 'floor', kind: 'aisle' },
      ],
      sensors: [],
      touchpoints: [],
      devices: [],
    });
    expect(buildFloorPlan(store).layout).toBe('grid');
  });
});

describe('routes', () => {
  it('routes only through adjacent zones', () => {
    const plan = buildFloorPlan(gridStore(['entrance', 'aisle', 'aisle', 'aisle', 'aisle', 'aisle', 'aisle', 'aisle', 'aisle']));
    const route = shortestRoute(plan, 'z0', 'z8');
    expect(route[0]).toBe('z0');
    expect(route[route.length - 1]).toBe('z8');
    for (let i = 1; i < route.length; i += 1) expect(plan.adjacency[route[i - 1] as string]).toContain(route[i]);
  });

  it('follows a declared adjacency over shared walls', () => {
    const store = StoreSchema.parse({
      ...DEMO_STORE,
      layout: {
        ...DEMO_STORE.layout,
        adjacency: [
          ['entrance', 'aisle-women'],
          ['aisle-women', 'fitting-rooms'],
          ['entrance', 'checkout'],
          ['entrance', 'aisle-shoes'],
          ['aisle-shoes', 'aisle-men'],
        ],
      },
    });
    const plan = buildFloorPlan(store);
    expect(plan.adjacency.checkout).toEqual(['entrance']); // checkout and menswear share a wall, but no way through it
    expect(shortestRoute(plan, 'checkout', 'aisle-men')).toEqual(['checkout', 'entrance', 'aisle-shoes', 'aisle-men']);
  });
});

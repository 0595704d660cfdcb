import { describe, expect, it } from 'vitest';

import type { ExperienceEvent } from '../../log/derived-record.js';
import { experiencePoint } from './normalise-experience.js';

const base = { definition: 'x/1', params: 'a=1;b=2s' };

describe('experience points', () => {
  it('writes each event type to its measurement with its definition, the zone as a tag and ids as fields', () => {
    const events: ExperienceEvent[] = [
      { ...base, type: 'visit', id: 'visit-1', visitor: 'ibeacon:u:1:2', start: 1_000, end: 61_000, path: ['entrance', 'aisle-men'], zones: 2 },
      {
        ...base,
        type: 'zone_stay',
        id: 'visit-1/stay-0',
        visitId: 'visit-1',
        visitor: 'ibeacon:u:1:2',
        zone: 'aisle-men',
        enter: 1_000,
        exit: 31_000,
        passing: false,
        confidence: 0.8,
      },
      {
        ...base,
        type: 'exposure',
        id: 'visit-1/exposure-k',
        visitId: 'visit-1',
        visitor: 'ibeacon:u:1:2',
        touchpoint: 'k',
        zone: 'aisle-men',
        at: 1_000,
        exposedMs: 30_000,
        interacted: true,
      },
      { ...base, type: 'occupancy', id: 'o', zone: 'aisle-men', minute: 0, devices: 3 },
      { ...base, type: 'passer_by', id: 'p', visitor: 'dev:q', at: 5, heardMs: 15_000 },
      { ...base, type: 'wifi_visit', id: 'wifi-visit-1', start: 1_000, end: 301_000, pseudonyms: 2 },
    ];
    expect(events.map((e) => experiencePoint('demo', e, '1000000007').line)).toEqual([
      'visit,definition=x/1,method=ble,store=demo count=1i,duration_s=60,end_ms=61000i,params="a=1;b=2s",path="entrance > aisle-men",visit_id="visit-1",visitor="ibeacon:u:1:2",zones=2i 1000000007',
      'zone_stay,definition=x/1,method=ble,passing=false,store=demo,zone=aisle-men confidence=0.8,count=1i,dwell_s=30,exit_ms=31000i,params="a=1;b=2s",visit_id="visit-1",visitor="ibeacon:u:1:2" 1000000007',
      'exposure,definition=x/1,method=ble,store=demo,touchpoint=k,zone=aisle-men count=1i,exposed_s=30,interacted=T,params="a=1;b=2s",visit_id="visit-1",visitor="ibeacon:u:1:2" 1000000007',
      'occupancy,definition=x/1,method=ble,store=demo,zone=aisle-men devices=3i,params="a=1;b=2s" 1000000007',
      'passer_by,definition=x/1,method=ble,store=demo count=1i,heard_s=15,params="a=1;b=2s",visitor="dev:q" 1000000007',
      // no pseudonym: nothing that links the visit's pseudonyms, nor one of them to the raw observations
      'wifi_visit,definition=x/1,method=wifi,store=demo count=1i,duration_s=300,end_ms=301000i,params="a=1;b=2s",pseudonyms=2i,visit_id="wifi-visit-1" 1000000007',
    ]);
  });

  it('leaves out a confidence the engine did not give', () => {
    const stay: ExperienceEvent = {
      ...base,
      type: 'zone_stay',
      id: 's',
      visitId: 'v',
      visitor: 'd',
      zone: 'z',
      enter: 0,
      exit: 1,
      passing: true,
      confidence: null,
    };
    expect(experiencePoint('demo', stay, '1').line).not.toContain('confidence');
  });
});

import { describe, expect, it } from 'vitest';

import { boundStore, publishDenial, subscribeDenial, type MqttGrant } from './mqtt-grants.js';

const device: MqttGrant = { role: 'device', stores: ['store-a'], source: 'kiosk-a', forwards: '*' };
const agent: MqttGrant = { role: 'agent', stores: ['store-a'], source: 'edge-a', forwards: ['ble-1', 'counter-door'] };
const agentAll: MqttGrant = { role: 'agent', stores: ['store-a'], source: 'edge-a', forwards: '*' };
const publisher: MqttGrant = { role: 'publisher', stores: ['store-a', 'store-b'], source: null, forwards: '*' };
const operatorA: MqttGrant = { role: 'operator', stores: ['store-a'], source: null, forwards: '*' };
const operatorAll: MqttGrant = { role: 'operator', stores: '*', source: null, forwards: '*' };

describe('publishDenial', () => {
  it('lets a device publish its own source only, in its own store only', () => {
    expect(publishDenial(device, 'store-a', 'touchpoint', 'kiosk-a')).toBeNull();
    expect(publishDenial(device, 'store-a', 'status', 'kiosk-a')).toBeNull();
    expect(publishDenial(device, 'store-a', 'touchpoint', 'kiosk-b')).toBe('other_source');
    expect(publishDenial(device, 'store-b', 'touchpoint', 'kiosk-a')).toBe('other_store');
    expect(publishDenial(device, 'store-a', 'config', 'kiosk-a')).toBe('config_not_operator');
  });

  it('lets an agent publish for itself and the sources it forwards for', () => {
    expect(publishDenial(agent, 'store-a', 'status', 'edge-a')).toBeNull();
    expect(publishDenial(agent, 'store-a', 'ble', 'ble-1')).toBeNull();
    expect(publishDenial(agent, 'store-a', 'ble', 'ble-2')).toBe('other_source');
    expect(publishDenial(agentAll, 'store-a', 'ble', 'ble-2')).toBeNull();
    expect(publishDenial(agentAll, 'store-b', 'ble', 'ble-1')).toBe('other_store');
    expect(publishDenial(agentAll, 'store-a', 'config', 'edge-a')).toBe('config_not_operator');
  });

  it('lets a publisher publish data, never config, in its stores', () => {
    expect(publishDenial(publisher, 'store-b', 'people', 'anything')).toBeNull();
    expect(publishDenial(publisher, 'store-c', 'ble', 'ble-1')).toBe('other_store');
    expect(publishDenial(publisher, 'store-a', 'config', 'edge-a')).toBe('config_not_operator');
  });

  it('lets only an operator publish an agent config, inside its stores', () => {
    expect(publishDenial(operatorA, 'store-a', 'config', 'edge-a')).toBeNull();
    expect(publishDenial(operatorA, 'store-b', 'config', 'edge-b')).toBe('other_store');
    expect(publishDenial(operatorAll, 'store-z', 'config', 'edge-z')).toBeNull();
  });
});

describe('subscribeDenial', () => {
  it('lets an agent subscribe to exactly its own config topic', () => {
    expect(subscribeDenial(agent, 'storeloop', 'storeloop/store-a/config/edge-a')).toBeNull();
    expect(subscribeDenial(agent, 'storeloop', 'storeloop/store-a/config/edge-b')).toBe('subscribe_not_allowed');
    expect(subscribeDenial(agent, 'storeloop', 'storeloop/store-a/config/+')).toBe('subscribe_not_allowed');
    expect(subscribeDenial(agent, 'storeloop', 'storeloop/#')).toBe('subscribe_not_allowed');
    expect(subscribeDenial(agent, 'storeloop', '#')).toBe('subscribe_not_allowed');
  });

  it('refuses every subscription of devices and publishers', () => {
    expect(subscribeDenial(device, 'storeloop', 'storeloop/store-a/touchpoint/kiosk-a')).toBe('subscribe_not_allowed');
    expect(subscribeDenial(publisher, 'storeloop', 'storeloop/store-a/#')).toBe('subscribe_not_allowed');
  });

  it('keeps an operator inside its stores, wildcards included', () => {
    expect(subscribeDenial(operatorA, 'storeloop', 'storeloop/store-a/#')).toBeNull();
    expect(subscribeDenial(operatorA, 'storeloop', 'storeloop/store-a/+/kiosk-a')).toBeNull();
    expect(subscribeDenial(operatorA, 'storeloop', 'storeloop/+/ble/#')).toBe('filter_outside_stores');
    expect(subscribeDenial(operatorA, 'storeloop', 'storeloop/#')).toBe('filter_outside_stores');
    expect(subscribeDenial(operatorA, 'storeloop', '#')).toBe('filter_outside_stores');
    expect(subscribeDenial(operatorA, 'storeloop', 'storeloop/store-b/#')).toBe('filter_outside_stores');
    expect(subscribeDenial(operatorAll, 'storeloop', '#')).toBeNull();
  });
});

describe('boundStore', () => {
  it('names the one store of a device or agent, and none for identities of several stores', () => {
    expect(boundStore(device)).toBe('store-a');
    expect(boundStore(publisher)).toBeNull();
    expect(boundStore(operatorAll)).toBeNull();
  });
});

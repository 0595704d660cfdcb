import { describe, expect, it } from 'vitest';

import { PacketReader } from '../devtools/mqtt-wire.js';
import { AttackPacketType, encodeSubscribe, MAX_DECLARED_LENGTH, publishHeader, publishTemplate, seededBytes } from './attack-packets.js';

describe('attack packets', () => {
  it('stamps a packet id into a QoS 1 PUBLISH template that reads back as one whole packet', () => {
    const { packet, packetIdOffset } = publishTemplate('storeloop/demo-store/ble/s1', '{"ts":1}');
    const copy = Buffer.from(packet);
    copy.writeUInt16BE(513, packetIdOffset);
    const [read] = new PacketReader().push(copy);
    expect(read?.type).toBe(AttackPacketType.PUBLISH);
    expect(read?.flags).toBe(0x02); // QoS 1
    const topicLength = read?.body.readUInt16BE(0) ?? 0;
    expect(read?.body.subarray(2, 2 + topicLength).toString()).toBe('storeloop/demo-store/ble/s1');
    expect(read?.body.readUInt16BE(2 + topicLength)).toBe(513);
    expect(read?.body.subarray(4 + topicLength).toString()).toBe('{"ts":1}');
  });

  it('encodes a SUBSCRIBE with its reserved flags and the requested QoS', () => {
    const [read] = new PacketReader().push(encodeSubscribe(7, 'storeloop/#', 1));
    expect(read?.type).toBe(AttackPacketType.SUBSCRIBE);
    expect(read?.flags).toBe(0x02); // [MQTT-3.8.1-1]
    expect([...(read?.body ?? [])]).toEqual([0, 7, 0, 11, ...Buffer.from('storeloop/#'), 1]);
  });

  it('declares 256 MiB in a PUBLISH header that sends a few bytes only', () => {
    const header = publishHeader(MAX_DECLARED_LENGTH, 'a/b');
    expect([...header.subarray(0, 5)]).toEqual([AttackPacketType.PUBLISH << 4, 0xff, 0xff, 0xff, 0x7f]);
    expect(header.length).toBe(5 + 2 + 3);
    expect(new PacketReader().push(header)).toEqual([]); // never complete
  });

  it('gives the same random bytes for the same seed', () => {
    expect(seededBytes(42, 64)).toEqual(seededBytes(42, 64));
    expect(seededBytes(42, 64)).not.toEqual(seededBytes(43, 64));
  });
});

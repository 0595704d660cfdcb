import { describe, expect, it } from 'vitest';

import { connackReturnCode, encodeConnect, encodeRemainingLength, PacketReader, PacketType, PINGREQ } from './mqtt-wire.js';

describe('encodeConnect', () => {
  it('writes an MQTT 3.1.1 CONNECT with a clean session, the keepalive and the client id', () => {
    const packet = encodeConnect({ clientId: 'a', keepaliveSeconds: 30 });
    // fixed header, remaining length 13, "MQTT", level 4, flags 0x02, keepalive 30, client id "a"
    expect([...packet]).toEqual([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 30, 0, 1, 0x61]);
  });

  it('adds the user name and password with their flags when given a login', () => {
    const packet = encodeConnect({ clientId: 'a', keepaliveSeconds: 30, login: { username: 'u', password: 'p' } });
    // flags 0xc2 (user name, password, clean session); payload: client id "a", user name "u", password "p"
    expect([...packet]).toEqual([0x10, 19, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0, 30, 0, 1, 0x61, 0, 1, 0x75, 0, 1, 0x70]);
  });

  it('refuses a keepalive that does not fit two bytes', () => {
    expect(() => encodeConnect({ clientId: 'a', keepaliveSeconds: 70_000 })).toThrow(/keepalive 70000 s/);
  });
});

describe('encodeRemainingLength', () => {
  it('encodes the specification examples (§2.2.3)', () => {
    expect([...encodeRemainingLength(0)]).toEqual([0x00]);
    expect([...encodeRemainingLength(127)]).toEqual([0x7f]);
    expect([...encodeRemainingLength(321)]).toEqual([0xc1, 0x02]);
    expect([...encodeRemainingLength(16_384)]).toEqual([0x80, 0x80, 0x01]);
  });
});

describe('PacketReader', () => {
  it('splits CONNACK and PINGRESP out of chunks cut anywhere', () => {
    const stream = Buffer.from([0x20, 0x02, 0x00, 0x00, 0xd0, 0x00, 0xd0, 0x00]);
    const reader = new PacketReader();
    const packets = [stream.subarray(0, 1), stream.subarray(1, 5), stream.subarray(5)].flatMap((chunk) => reader.push(chunk));
    expect(packets.map((p) => p.type)).toEqual([PacketType.CONNACK, PacketType.PINGRESP, PacketType.PINGRESP]);
    expect(connackReturnCode(packets[0] ?? { type: 0, flags: 0, body: Buffer.alloc(0) })).toBe(0);
  });

  it('reads a refused CONNACK return code and ignores other packets', () => {
    const [refused] = new PacketReader().push(Buffer.from([0x20, 0x02, 0x00, 0x05]));
    expect(refused && connackReturnCode(refused)).toBe(5);
    expect(connackReturnCode({ type: PacketType.PINGRESP, flags: 0, body: Buffer.alloc(0) })).toBeUndefined();
  });

  it('keeps PINGREQ at two bytes', () => {
    expect([...PINGREQ]).toEqual([0xc0, 0x00]);
  });
});

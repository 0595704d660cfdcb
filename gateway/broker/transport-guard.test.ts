import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { encodeRemainingLength } from '../../devtools/mqtt-wire.js';
import { PacketLengthReader, SubscriptionCap, TransportGuard, type TransportRefusal } from './transport-guard.js';

/** A PUBLISH-typed packet: type byte, remaining length, then `length` body bytes (or the header alone). */
function packet(length: number, body = true): Buffer {
  return Buffer.concat([Buffer.from([0x30]), encodeRemainingLength(length), body ? Buffer.alloc(length, 7) : Buffer.alloc(0)]);
}

describe('PacketLengthReader', () => {
  it('follows packets through chunks cut anywhere, headers included', () => {
    const stream = Buffer.concat([packet(0), packet(5), packet(200), packet(127), packet(128), packet(16_384)]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      let now = 0;
      const reader = new PacketLengthReader(20_000, () => now);
      for (let at = 0; at < stream.length; at += size) {
        now += 1;
        expect(reader.inspect(stream.subarray(at, at + size)), `chunks of ${size}`).toBeNull();
      }
      expect(reader.startedAt, `chunks of ${size}: between packets at the end`).toBeNull();
    }
  });

  it('refuses a packet that declares more than the limit as soon as its length is read', () => {
    const reader = new PacketLengthReader(1_000);
    expect(reader.inspect(packet(1_000))).toBeNull();
    const huge = packet(100 * 1024 * 1024, false);
    expect(reader.inspect(huge.subarray(0, 2))).toBeNull(); // the length is not complete yet
    expect(reader.inspect(huge.subarray(2))).toBe('packet_too_large');
    expect(reader.declaredLength).toBe(100 * 1024 * 1024);
  });

  it('refuses a length with a fifth byte', () => {
    expect(new PacketLengthReader(1_000).inspect(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe('malformed_length');
  });

  it('knows when an unfinished packet began', () => {
    let now = 100;
    const reader = new PacketLengthReader(1_000, () => now);
    reader.inspect(packet(50).subarray(0, 10));
    expect(reader.startedAt).toBe(100);
    now = 900;
    reader.inspect(packet(50).subarray(10));
    expect(reader.startedAt).toBeNull();
  });
});

describe('TransportGuard', () => {
  function guardWith(limits: Partial<ConstructorParameters<typeof TransportGuard>[0]> = {}, clock = { now: 0 }) {
    const refusals: Array<{ reason: TransportRefusal; address: string }> = [];
    const guard = new TransportGuard(
      { maxPacketBytes: 1_000, packetTimeoutMs: 500, maxConnections: 10, maxConnectionsPerAddress: 10, ...limits },
      (reason, context) => refusals.push({ reason, address: context.address }),
      () => clock.now,
    );
    return { guard, refusals };
  }

  it('caps connections in total and per address, and frees a place when one closes', async () => {
    const { guard, refusals } = guardWith({ maxConnections: 3, maxConnectionsPerAddress: 2 });
    const a1 = new PassThrough();
    expect(guard.admit(a1, '10.0.0.1')).toBe(true);
    expect(guard.admit(new PassThrough(), '10.0.0.1')).toBe(true);
    const refusedA = new PassThrough();
    expect(guard.admit(refusedA, '10.0.0.1')).toBe(false);
    expect(refusedA.destroyed).toBe(true);
    expect(guard.admit(new PassThrough(), '10.0.0.2')).toBe(true);
    expect(guard.admit(new PassThrough(), '10.0.0.3')).toBe(false);
    expect(refusals.map((r) => r.reason)).toEqual(['too_many_connections_from_address', 'too_many_connections']);
    a1.destroy();
    await new Promise((resolve) => a1.once('close', resolve));
    expect(guard.size).toBe(2);
    expect(guard.admit(new PassThrough(), '10.0.0.1')).toBe(true);
  });

  it('hands the reader nothing of a packet that is too large, and closes the connection', () => {
    const { guard, refusals } = guardWith();
    const conn = new PassThrough();
    guard.admit(conn, '10.0.0.1');
    conn.write(packet(10));
    expect(conn.read()).toEqual(packet(10));
    conn.write(packet(5_000));
    expect(conn.read()).toBeNull();
    expect(conn.destroyed).toBe(true);
    expect(refusals).toEqual([{ reason: 'packet_too_large', address: '10.0.0.1' }]);
  });

  it('closes a connection whose packet stalls past the timeout, and only that one', () => {
    const clock = { now: 0 };
    const { guard, refusals } = guardWith({}, clock);
    const stalled = new PassThrough();
    const idle = new PassThrough();
    guard.admit(stalled, '10.0.0.1');
    guard.admit(idle, '10.0.0.2');
    stalled.write(packet(100).subarray(0, 20));
    stalled.read();
    clock.now = 499;
    expect(guard.sweep()).toBe(0);
    clock.now = 500;
    expect(guard.sweep()).toBe(1);
    expect(stalled.destroyed).toBe(true);
    expect(idle.destroyed).toBe(false);
    expect(refusals).toEqual([{ reason: 'packet_timeout', address: '10.0.0.1' }]);
  });
});

describe('SubscriptionCap', () => {
  it('counts what a client holds and what it is being granted in the same SUBSCRIBE', async () => {
    const cap = new SubscriptionCap(3);
    const client = {};
    const held: Record<string, unknown> = { a: 1 };
    expect(cap.allow(client, held, 'b')).toBe(true);
    expect(cap.allow(client, held, 'c')).toBe(true);
    expect(cap.allow(client, held, 'd')).toBe(false);
    expect(cap.allow(client, held, 'a')).toBe(true); // re-subscribing to a held topic adds nothing
    await new Promise((resolve) => setImmediate(resolve));
    expect(cap.allow(client, { a: 1, b: 1 }, 'c')).toBe(true);
    expect(cap.allow(client, { a: 1, b: 1 }, 'd')).toBe(false);
  });
});

describe('TransportGuard while the broker answers a publish', () => {
  /** A guard with a 500 ms packet timeout on a manual clock, and a connection that has begun a packet (97 bytes still to come). */
  function begunPacket() {
    const clock = { now: 0 };
    const guard = new TransportGuard(
      { maxPacketBytes: 1_000, packetTimeoutMs: 500, maxConnections: 10, maxConnectionsPerAddress: 10 },
      () => undefined,
      () => clock.now,
    );
    const conn = new PassThrough();
    guard.admit(conn, '10.0.0.1');
    conn.write(Buffer.from([0x30, 100, 1, 2, 3]));
    conn.read();
    return { clock, guard, conn };
  }

  it('does not count the time aedes is not reading against a begun packet', () => {
    const { clock, guard, conn } = begunPacket();
    guard.busy(conn);
    clock.now = 5_000;
    expect(guard.sweep()).toBe(0);
    guard.idle(conn); // aedes reads again: the client has the full timeout from now
    clock.now = 5_499;
    expect(guard.sweep()).toBe(0);
    clock.now = 5_500;
    expect(guard.sweep()).toBe(1);
  });

  it('does not count the time the rest of a begun packet waits unread in the connection (aedes delivering to a stalled subscriber)', () => {
    const { clock, guard, conn } = begunPacket();
    conn.write(Buffer.alloc(50, 7)); // the client sent more; aedes, still delivering, has not read it
    clock.now = 5_000;
    expect(guard.sweep()).toBe(0);
    expect(conn.read()).toHaveLength(50); // aedes reads on: the client has the full timeout from the last sweep
    clock.now = 5_499;
    expect(guard.sweep()).toBe(0);
    clock.now = 5_500;
    expect(guard.sweep()).toBe(1);
  });
});

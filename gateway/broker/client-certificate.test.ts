import { Socket } from 'node:net';
import { TLSSocket, type PeerCertificate } from 'node:tls';

import type { Client } from 'aedes';
import { describe, expect, it } from 'vitest';

import { clientCertificateRefusal, describeHandshakeError, isTlsClient, verifiedCertificateName } from './client-certificate.js';

/** A TLS socket as the listeners hand it over after the handshake (no network: only what the functions read). */
function tlsSocket(authorized: boolean, subject: Record<string, unknown> | null, authorizationError?: string): TLSSocket {
  const socket = Object.create(TLSSocket.prototype) as TLSSocket;
  const certificate = (subject === null ? {} : { subject }) as PeerCertificate;
  Object.assign(socket, { authorized, authorizationError, getPeerCertificate: () => certificate });
  return socket;
}

function tcpClient(conn: unknown): Client {
  return { conn } as unknown as Client;
}

function wsClient(socket: unknown): Client {
  return { conn: {}, req: { socket } } as unknown as Client;
}

describe('verifiedCertificateName', () => {
  it("gives the CN of a verified certificate over TLS and over secure WebSocket (the request's socket)", () => {
    expect(verifiedCertificateName(tcpClient(tlsSocket(true, { CN: 'kiosk-1', O: 'store' })))).toBe('kiosk-1');
    expect(verifiedCertificateName(wsClient(tlsSocket(true, { CN: 'kiosk-2' })))).toBe('kiosk-2');
  });

  it('gives null without TLS, without a verified certificate, or without one clear CN', () => {
    expect(verifiedCertificateName(tcpClient(new Socket()))).toBeNull();
    expect(verifiedCertificateName(wsClient(new Socket()))).toBeNull();
    expect(verifiedCertificateName(tcpClient(tlsSocket(false, { CN: 'kiosk-1' }, 'CERT_HAS_EXPIRED')))).toBeNull();
    expect(verifiedCertificateName(tcpClient(tlsSocket(true, null)))).toBeNull();
    expect(verifiedCertificateName(tcpClient(tlsSocket(true, { O: 'store' })))).toBeNull();
    expect(verifiedCertificateName(tcpClient(tlsSocket(true, { CN: ['a', 'b'] })))).toBeNull();
    // the WebSocket stream of a plaintext listener is no TLS socket, whatever the request says
    expect(verifiedCertificateName({ conn: tlsSocket(true, { CN: 'x' }), req: { socket: new Socket() } } as unknown as Client)).toBeNull();
  });

  it('tells TLS clients from plaintext ones', () => {
    expect(isTlsClient(tcpClient(tlsSocket(false, null)))).toBe(true);
    expect(isTlsClient(wsClient(tlsSocket(false, null)))).toBe(true);
    expect(isTlsClient(tcpClient(new Socket()))).toBe(false);
  });
});

describe('clientCertificateRefusal', () => {
  it('lets a verified certificate in, and anything when certificates are off', () => {
    expect(clientCertificateRefusal(tlsSocket(true, { CN: 'k' }), 'required')).toBeNull();
    expect(clientCertificateRefusal(tlsSocket(false, null, 'UNABLE_TO_GET_ISSUER_CERT'), 'off')).toBeNull();
  });

  it('lets a client without a certificate in only when certificates are optional', () => {
    expect(clientCertificateRefusal(tlsSocket(false, null, 'UNABLE_TO_GET_ISSUER_CERT'), 'optional')).toBeNull();
    expect(clientCertificateRefusal(tlsSocket(false, null, 'UNABLE_TO_GET_ISSUER_CERT'), 'required')).toMatch(/^no client certificate/);
  });

  it("refuses a certificate that failed verification, in OpenSSL's words, optional or required", () => {
    for (const mode of ['optional', 'required'] as const) {
      expect(clientCertificateRefusal(tlsSocket(false, { CN: 'k' }, 'CERT_HAS_EXPIRED'), mode)).toMatch(/^certificate has expired/);
      expect(clientCertificateRefusal(tlsSocket(false, { CN: 'k' }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), mode)).toMatch(/^unknown ca: .*mqtt\.tls\.caFile/);
      expect(clientCertificateRefusal(tlsSocket(false, { CN: 'k' }, 'SOME_NEW_CODE'), mode)).toBe('some new code');
    }
  });
});

describe('describeHandshakeError', () => {
  it("gives OpenSSL's reason with the likely cause", () => {
    const sslError = (code: string, reason: string) => Object.assign(new Error(`…:${reason}:…`), { code, reason });
    expect(describeHandshakeError(sslError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'))).toBe(
      'wrong version number: not TLS: a plaintext MQTT or HTTP client on the TLS port?',
    );
    expect(describeHandshakeError(sslError('ERR_SSL_UNSUPPORTED_PROTOCOL', 'unsupported protocol'))).toMatch(/mqtt\.tls\.minVersion/);
    expect(describeHandshakeError(sslError('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca'))).toMatch(/does not trust the gateway certificate/);
    expect(describeHandshakeError(sslError('ERR_SSL_SOMETHING', 'something else'))).toBe('something else');
    expect(describeHandshakeError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toMatch(/closed the connection during the handshake/);
  });
});

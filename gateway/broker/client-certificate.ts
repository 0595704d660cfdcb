/**
 * What the TLS layer proved about an MQTT client: the verified name of its certificate (for the
 * authenticate hook), and why a certificate or a handshake was refused, in words an installer can act on.
 */
import { TLSSocket } from 'node:tls';

import type { Client } from 'aedes';

/** Whether TLS listeners ask clients for a certificate (config mqtt.tls.clientCertificates). */
export type ClientCertificateMode = 'off' | 'optional' | 'required';

/** The TLS socket under an aedes client: the connection itself over TLS, the HTTP request's socket over WSS. */
function tlsSocketOf(client: Pick<Client, 'conn' | 'req'>): TLSSocket | null {
  const socket: unknown = client.req ? client.req.socket : client.conn;
  return socket instanceof TLSSocket ? socket : null;
}

/** True when the client came over TLS or secure WebSocket. */
export function isTlsClient(client: Pick<Client, 'conn' | 'req'>): boolean {
  return tlsSocketOf(client) !== null;
}

/**
 * The subject CN of the client's certificate when the client came over TLS (or WSS) and the
 * certificate was verified against mqtt.tls.caFile (`authorized`); null otherwise: plaintext, no
 * certificate, or a certificate the gateway did not verify. A certificate with several CNs has none.
 */
export function verifiedCertificateName(client: Pick<Client, 'conn' | 'req'>): string | null {
  const socket = tlsSocketOf(client);
  if (socket === null || !socket.authorized) return null;
  const name: unknown = socket.getPeerCertificate().subject?.CN;
  return typeof name === 'string' && name !== '' ? name : null;
}

/** OpenSSL's verify results (Node's `authorizationError` codes) an installer meets, in OpenSSL's words and what to do. */
const VERIFY_ERRORS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired: issue the device a new one',
  CERT_NOT_YET_VALID: 'certificate is not yet valid: check the clocks of the device and the gateway',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown ca: not signed by a CA in mqtt.tls.caFile',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown ca: not signed by a CA in mqtt.tls.caFile',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown ca: not signed by a CA in mqtt.tls.caFile',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown ca: its chain ends in a CA that is not in mqtt.tls.caFile',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown ca: a self-signed certificate',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_REVOKED: 'certificate revoked',
  INVALID_PURPOSE: 'unsupported certificate purpose: its extendedKeyUsage does not allow clientAuth',
  CERT_UNTRUSTED: 'certificate not trusted for client authentication',
};

/**
 * Why a client's certificate is refused after the handshake, or null when it may go on. `optional`
 * lets a client without a certificate in, but never one whose certificate failed verification.
 */
export function clientCertificateRefusal(
  socket: Pick<TLSSocket, 'authorized' | 'authorizationError' | 'getPeerCertificate'>,
  mode: ClientCertificateMode,
): string | null {
  if (mode === 'off' || socket.authorized) return null;
  const presented = Object.keys(socket.getPeerCertificate()).length > 0;
  if (!presented) return mode === 'required' ? 'no client certificate: mqtt.tls.clientCertificates is required' : null;
  // Node's type says Error; at run time it is OpenSSL's verify result as a code string
  const code = String(socket.authorizationError as unknown);
  return VERIFY_ERRORS[code] ?? code.toLowerCase().replaceAll('_', ' ');
}

/** OpenSSL reasons of failed handshakes, with the likely cause. */
const HANDSHAKE_REASONS: Array<[RegExp, string]> = [
  [/wrong version number|http request|unknown protocol|packet length too long/, 'not TLS: a plaintext MQTT or HTTP client on the TLS port?'],
  [/unsupported protocol|no protocols available|version too low/, 'the client offers no TLS version from mqtt.tls.minVersion up'],
  [/no shared cipher|no suitable signature algorithm/, 'no cipher or signature algorithm in common with the client'],
  [
    /alert unknown ca|alert bad certificate|alert certificate unknown/,
    'the client does not trust the gateway certificate (give it the CA that signed mqtt.tls.certFile)',
  ],
];

/** The installer's words for a handshake error (OpenSSL's reason first). */
export function describeHandshakeError(err: Error & { code?: string; reason?: string }): string {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE')
    return 'the client closed the connection during the handshake (does it trust the gateway certificate?)';
  const reason = err.reason ?? err.code ?? err.message;
  const hint = HANDSHAKE_REASONS.find(([pattern]) => pattern.test(reason))?.[1];
  return hint ? `${reason}: ${hint}` : reason;
}

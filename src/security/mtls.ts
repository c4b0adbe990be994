import type { ConnectionOptions, PeerCertificate, TlsOptions, TLSSocket } from "node:tls";
import { PeerSvidMemo } from "./_peer_svid.ts";
import type { SvidSnapshot } from "./load_svid_dir.ts";
import { SpiffeId } from "./spiffe_id.ts";
import { compileMatcher, type SpiffeMatcher } from "./spiffe_matcher.ts";
import { SvidError } from "./svid.ts";

/** Anything with a current SVID: an `SvidSource`, or a fixed snapshot in tests. */
export interface SvidProvider {
  current(): SvidSnapshot;
}

/**
 * Thrown (as the handshake error of `tls.connect`) when the server's certificate chains to
 * the bundle but is not a valid SVID or holds a SPIFFE ID other than the one expected.
 */
export class PeerIdentityError extends Error {
  /** Always `"ERR_SPIFFE_PEER"`, for code that switches on `err.code`. */
  readonly code = "ERR_SPIFFE_PEER";
  /** The peer's SPIFFE ID, when its certificate is a valid SVID. */
  readonly peer: SpiffeId | undefined;

  /** Creates the error. */
  constructor(message: string, peer?: SpiffeId) {
    super(message);
    this.name = "PeerIdentityError";
    this.peer = peer;
  }
}

const memo = new PeerSvidMemo();

/**
 * Options for `tls.createServer` or `http2.createSecureServer` of an mTLS listener: client
 * certificates required and verified against the trust bundle, TLS 1.3 only, and an
 * `SNICallback` that hands every new handshake the provider's current context, so a rotated
 * SVID or bundle applies to new connections while open ones carry on. Measured on Deno 2.9.6:
 * the callback runs for every handshake, with or without SNI, and its context's `ca` is what
 * client certificates are verified against.
 *
 * node:tls accepts a trust-bundle root presented as the client's leaf; call `peerSpiffeId` on
 * each new connection and close it when that returns `undefined`.
 *
 * @param source the SVID provider
 * @param options.alpn ALPN protocol ids offered, most preferred first (e.g. `["h2"]`)
 * @example
 * ```ts
 * const server = tls.createServer(serverOptions(source, { alpn: ["h2"] }), (socket) => {
 *   const peer = peerSpiffeId(socket);
 *   if (!peer || !allowed(peer)) return socket.destroy();
 * });
 * ```
 */
export function serverOptions(source: SvidProvider, options: { alpn?: string[] } = {}): TlsOptions {
  const { cert, key, ca } = source.current();
  return {
    cert,
    key,
    ca,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
    ALPNProtocols: options.alpn,
    SNICallback: (_servername, cb) => cb(null, source.current().secureContext),
  };
}

/** Options of `connectOptions`. */
export interface ConnectOptionsParams {
  /** The SPIFFE ID the server must present, or a matcher for the IDs it may present. */
  expect: SpiffeId | SpiffeMatcher;
  /** ALPN protocol ids offered, most preferred first. */
  alpn?: string[];
  /** SNI name to send; none by default (peers are addressed by IP). */
  servername?: string;
}

/**
 * Options for `tls.connect` (or `http2.connect` via `createConnection`) of an mTLS hop to a
 * peer sidecar: the provider's current SVID as client certificate, the bundle as trust
 * anchors, TLS 1.3 only, and a `checkServerIdentity` that accepts the server only when its
 * certificate is a valid SVID whose SPIFFE ID is `expect` (or matches it). Otherwise the
 * handshake fails with a `PeerIdentityError`. Call it per connection so that each one takes
 * the current SVID.
 *
 * @throws {TypeError} when `expect` is an invalid matcher
 * @example
 * ```ts
 * const socket = tls.connect({
 *   host: "10.0.0.7",
 *   port: 15001,
 *   ...connectOptions(source, { expect: SpiffeId.parse("spiffe://example.org/ns/prod/sa/api"), alpn: ["h2"] }),
 * });
 * ```
 */
export function connectOptions(
  source: SvidProvider,
  params: ConnectOptionsParams,
): ConnectionOptions {
  const { cert, key, ca } = source.current();
  const expect = params.expect;
  const accepts = expect instanceof SpiffeId
    ? (id: SpiffeId) => id.equals(expect)
    : compileMatcher(expect);
  const wanted = expect instanceof SpiffeId ? expect.toString() : JSON.stringify(expect);
  return {
    cert,
    key,
    ca,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
    ALPNProtocols: params.alpn,
    servername: params.servername,
    checkServerIdentity: (_host: string, peer: PeerCertificate) => {
      let id: SpiffeId;
      try {
        id = memo.check(peer).id;
      } catch (err) {
        if (!(err instanceof SvidError)) throw err;
        return new PeerIdentityError(`Server certificate is not an X.509-SVID: ${err.message}`);
      }
      if (accepts(id)) return undefined;
      return new PeerIdentityError(`Server is "${id}", expected ${wanted}`, id);
    },
  };
}

/**
 * The SPIFFE ID of the peer of an established TLS connection, when its certificate is a
 * valid X.509-SVID (one SPIFFE URI SAN, not a CA, key usage digitalSignature); `undefined`
 * when it presented no certificate or one that is not an SVID.
 */
export function peerSpiffeId(socket: TLSSocket): SpiffeId | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  try {
    return memo.check(cert).id;
  } catch (err) {
    if (err instanceof SvidError) return undefined;
    throw err;
  }
}

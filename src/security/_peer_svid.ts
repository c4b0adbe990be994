import type { PeerCertificate } from "node:tls";
import { parseSvid, type Svid } from "./svid.ts";

const MAX_ENTRIES = 512;

/**
 * Checks a handshake peer's leaf with `parseSvid`, remembering the answer per certificate
 * (SHA-256 fingerprint): parsing the extensions costs close to a millisecond, about as much
 * as the handshake itself, and a peer presents the same certificate for its whole lifetime.
 * A bounded memo of a pure function, evicted oldest first.
 */
export class PeerSvidMemo {
  readonly #entries = new Map<string, Svid | Error>();

  /**
   * The peer's SVID.
   *
   * @throws {SvidError} when the certificate is not a valid SVID
   */
  check(cert: PeerCertificate): Svid {
    const key = cert.fingerprint256;
    let answer = this.#entries.get(key);
    if (answer === undefined) {
      try {
        answer = parseSvid([new Uint8Array(cert.raw)]);
      } catch (err) {
        answer = err as Error;
      }
      if (this.#entries.size >= MAX_ENTRIES) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
      this.#entries.set(key, answer);
    }
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

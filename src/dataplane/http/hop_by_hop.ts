/**
 * Fields that describe one hop and never travel past a proxy (RFC 9110 §7.6.1), plus the
 * framing fields skiff regenerates for the next hop (`content-length`, `transfer-encoding`)
 * and `host` (carried as the authority).
 */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
  "content-length",
  "http2-settings",
]);

/**
 * Copies the end-to-end fields of a flat header list: drops hop-by-hop fields, framing
 * fields, `host`, and every field named by a `Connection` token.
 *
 * @param headers flat `[name, value, …]` list with lower-case names
 * @param connection lower-cased tokens of the message's Connection header
 */
export function endToEndHeaders(headers: string[], connection: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (HOP_BY_HOP.has(name)) continue;
    if (connection.length > 0 && connection.includes(name)) continue;
    out.push(name, headers[i + 1]);
  }
  return out;
}

/** A parsed `host:port` address. */
export interface HostPort {
  hostname: string;
  port: number;
}

/**
 * Parses `host:port` or `[v6]:port`.
 *
 * @returns the parts, or null when `address` is not of that form
 */
export function parseHostPort(address: string): HostPort | null {
  const colon = address.lastIndexOf(":");
  if (colon <= 0) return null;
  let hostname = address.slice(0, colon);
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  else if (hostname.includes(":")) return null;
  const portText = address.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port > 65535 || hostname === "") return null;
  return { hostname, port };
}

/** Formats `hostname` and `port` as an address, bracketing IPv6 literals. */
export function formatHostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

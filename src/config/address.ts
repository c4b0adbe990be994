/** A parsed socket address. */
export interface SocketAddress {
  /** A host name or IP address; IPv6 without brackets (`::1`). */
  hostname: string;
  /** The port, 1 to 65535. */
  port: number;
}

/**
 * The grammar of an address: `host:port` with a host of letters, digits, dots and dashes, or
 * `[v6]:port` with an IPv6 host in brackets. The port's range (1 to 65535) is checked apart.
 * Exposed for the JSON Schema, so editors check what the loader checks.
 */
export const ADDRESS_PATTERN: RegExp = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

/**
 * Parses `host:port` (`[v6]:port` for IPv6) into its parts.
 *
 * @param opts `allowPortZero` accepts port 0 (bind to any free port; for listening addresses)
 * @returns the address, or `undefined` when `text` is not `host:port` with a valid port
 * @example
 * ```ts
 * parseAddress("127.0.0.1:8080"); // { hostname: "127.0.0.1", port: 8080 }
 * parseAddress("[::1]:8080"); // { hostname: "::1", port: 8080 }
 * ```
 */
export function parseAddress(
  text: string,
  opts: { allowPortZero?: boolean } = {},
): SocketAddress | undefined {
  const m = ADDRESS_PATTERN.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < (opts.allowPortZero ? 0 : 1) || port > 65535) return undefined;
  return { hostname: m[1] ?? m[2], port };
}

/** Formats an address as `host:port`, bracketing IPv6 hosts. */
export function formatAddress(addr: SocketAddress): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

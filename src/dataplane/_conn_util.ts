/** Formats a network address as `ip:port` (`[ip]:port` for IPv6). */
export function addrText(a: Deno.Addr): string {
  if (a.transport !== "tcp" && a.transport !== "udp") return a.transport;
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/** Closes `conn`, ignoring that it may be closed already. */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed */ }
}

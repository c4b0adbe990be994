/** A fresh random request id (RFC 4122 v4 UUID), as used for `x-request-id`. */
export function requestId(): string {
  return crypto.randomUUID();
}

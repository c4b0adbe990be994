import { encodeHead } from "./h1_serialize.ts";

/**
 * The bytes of a connection-closing error response with a `text/plain` body naming the
 * reason, also sent as `x-skiff-error`.
 *
 * @param status the status code
 * @param reason skiff's reason (`bad_request`, `request_timeout`, …)
 * @param phrase the status line's reason phrase
 */
export function encodeErrorHead(status: number, reason: string, phrase: string): Uint8Array {
  const text = errorHead(status, reason, phrase);
  const out = new Uint8Array(text.length);
  encodeHead(text, out);
  return out;
}

function errorHead(status: number, reason: string, phrase: string): string {
  const body = `${reason}\n`;
  return `HTTP/1.1 ${status} ${phrase}\r\ncontent-type: text/plain\r\nx-skiff-error: ${reason}\r\n` +
    `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
}

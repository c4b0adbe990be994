import type { Body } from "../../../src/dataplane/http/body.ts";
import type { ProxyRequest, ProxyResponse } from "../../../src/dataplane/http/message.ts";

/** A request a test handler received, answered when the test calls `respond`. */
export interface Pending {
  req: ProxyRequest;
  respond(res: ProxyResponse): void;
}

/** A response body the test feeds chunk by chunk. */
export class FedBody implements Body {
  readonly length: number;
  done = false;
  #chunks: Uint8Array[] = [];
  #ended = false;
  #waiter: (() => void) | null = null;

  /** @param length the body's length, or -1 when unknown (chunked) */
  constructor(length = -1) {
    this.length = length;
  }

  push(chunk: Uint8Array | null): void {
    if (chunk === null) this.#ended = true;
    else this.#chunks.push(chunk);
    this.#waiter?.();
    this.#waiter = null;
  }

  takeBuffered(): Uint8Array {
    return new Uint8Array(0);
  }

  async read(): Promise<Uint8Array | null> {
    while (this.#chunks.length === 0 && !this.#ended) {
      await new Promise<void>((r) => this.#waiter = r);
    }
    const c = this.#chunks.shift() ?? null;
    if (c === null) this.done = true;
    return c;
  }

  trailers(): string[] | null {
    return null;
  }

  cancel(): void {
    this.push(null);
  }
}

// Bounded runs of the fuzz properties in bench/fuzz_h1.ts (run that script for long runs).
import assert from "node:assert/strict";
import fc from "fast-check";
import { FUZZ_TARGETS, fuzzInput, fuzzOne } from "../../../bench/fuzz_h1.ts";
import { ChunkedDecoder } from "../../../src/dataplane/http/chunked_decoder.ts";
import { requestFraming } from "../../../src/dataplane/http/h1_framing.ts";
import {
  findHeadEnd,
  parseRequestHead,
  parseResponseHead,
} from "../../../src/dataplane/http/h1_head.ts";
import { HttpParseError } from "../../../src/dataplane/http/parse_error.ts";

const LIMITS = { maxHeadBytes: 8192, maxHeaders: 50 };

/** Calls `fn`; only an HttpParseError may escape it. */
function acceptedOrRejected(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    assert.ok([400, 413, 414, 431, 501, 502, 505].includes(err.status), `status ${err.status}`);
    assert.match(err.reason, /^[a-z0-9_]+$/);
  }
}

for (const target of FUZZ_TARGETS) {
  Deno.test(`fuzz ${target}: every input is accepted or rejected cleanly, split-independent`, () => {
    fc.assert(
      fc.property(fuzzInput(target), fc.nat(), (input, split) => fuzzOne(target, input, split)),
      { numRuns: 1500 },
    );
  });
}

Deno.test("fuzz: parsers given any byte range return or throw HttpParseError", () => {
  // No findHeadEnd first: the parsers must not trip over a range it would never pass them.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.nat(), (b, x, y) => {
      const start = x % (b.length + 1);
      const end = start + (y % (b.length - start + 1));
      acceptedOrRejected(() => findHeadEnd(b, start, end, 256));
      acceptedOrRejected(() => {
        const head = parseRequestHead(b, start, end, LIMITS);
        requestFraming(head.minor, head.headers);
      });
      acceptedOrRejected(() => parseResponseHead(b, start, end, LIMITS));
      acceptedOrRejected(() => new ChunkedDecoder(LIMITS).decode(b, start, end, () => {}));
    }),
    { numRuns: 2000 },
  );
});

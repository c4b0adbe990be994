// Fuzzes skiff's HTTP/1.1 codec: random bytes, random sequences of protocol fragments and
// mutated valid messages go through head finding, head parsing, framing and chunked
// decoding. Every input must either be accepted or rejected with an HttpParseError; any
// other exception, or a broken invariant (a result that changes with the buffer offset or
// with how the bytes are split across reads, an accepted head that does not survive
// re-serialization), is a crash. An input slower than --slow-ms three times in a row is
// reported as slow. With read permission the inputs run in a worker watched from the main
// thread, and an input still running after --hang-ms is reported as a hang.
//
// Run: deno run --allow-read bench/fuzz_h1.ts --runs 200000 --seed 42
//      [--slow-ms 250] [--hang-ms 10000]
// Prints the number of inputs tried; exits 1 on any finding, printed with its input in hex.
// The unit tests run the same properties for a bounded number of inputs (h1_fuzz_test.ts).
import fc from "fast-check";
import { concatBytes } from "../src/core/concat_bytes.ts";
import { ChunkedDecoder } from "../src/dataplane/http/chunked_decoder.ts";
import { type Framing, requestFraming, responseFraming } from "../src/dataplane/http/h1_framing.ts";
import {
  findHeadEnd,
  type HeadLimits,
  parseRequestHead,
  parseResponseHead,
} from "../src/dataplane/http/h1_head.ts";
import { encodeHead, fieldLines } from "../src/dataplane/http/h1_serialize.ts";
import { scanRequestHead } from "../src/dataplane/http/h1_request_scan.ts";
import { keptToHeaders, scanResponseHead } from "../src/dataplane/http/h1_response_scan.ts";
import { endToEndHeaders } from "../src/dataplane/http/hop_by_hop.ts";
import { HttpParseError } from "../src/dataplane/http/parse_error.ts";

/** The codec entry points a fuzz input is fed to. */
export type FuzzTarget = "request" | "response" | "chunked";
export const FUZZ_TARGETS: readonly FuzzTarget[] = ["request", "response", "chunked"];

const LIMITS: HeadLimits = { maxHeadBytes: 64 * 1024, maxHeaders: 100 };
const SMALL: HeadLimits = { maxHeadBytes: 512, maxHeaders: 8 };

/** A broken invariant: reported like a crash. */
class InvariantError extends Error {
  override name = "InvariantError";
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new InvariantError(what);
}

/** Runs `fn`; an HttpParseError becomes `reason:status`, anything else propagates. */
function outcome<T>(fn: () => T): T | string {
  try {
    return fn();
  } catch (err) {
    if (err instanceof HttpParseError) return `${err.reason}:${err.status}`;
    throw err;
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `input` copied to offset 3 of a larger buffer with stale bytes around it. */
function embedded(input: Uint8Array): Uint8Array {
  const buf = new Uint8Array(input.length + 16);
  buf.set([0x0a, 0x0d, 0x0a], 0);
  buf.set(input, 3);
  buf.set([0x0d, 0x0a, 0x0d, 0x0a, 0x0a, 0x0a], 3 + input.length);
  return buf;
}

/** Head end in `input`, checked to be the same when the bytes sit inside a larger buffer. */
function headEnd(input: Uint8Array, max: number): number | string {
  const alone = outcome(() => findHeadEnd(input, 0, input.length, max));
  const inside = outcome(() => findHeadEnd(embedded(input), 3, 3 + input.length, max));
  check(
    same(typeof inside === "number" && inside >= 0 ? inside - 3 : inside, alone),
    "findHeadEnd depends on where the bytes sit in the buffer",
  );
  return alone;
}

/** Checks a parsed field list: even length, token names, OWS-trimmed values without CTLs. */
function checkFields(headers: string[]): void {
  check(headers.length % 2 === 0, "odd header list");
  for (let i = 0; i < headers.length; i += 2) {
    check(/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(headers[i]), "bad field name accepted");
    check(
      /^([\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/.test(
        headers[i + 1],
      ),
      "bad field value accepted",
    );
  }
}

/** A parsed head of either kind, with what re-serializing and framing it need. */
interface Head {
  size: number;
  headers: string[];
  /** The start line as it is written back. */
  startLine: string;
  framing: () => Framing;
}

function parseHead(
  target: FuzzTarget,
  b: Uint8Array,
  end: number,
  limits: HeadLimits,
  split: number,
): Head {
  if (target === "request") {
    const h = parseRequestHead(b, 0, end, limits);
    return {
      ...h,
      startLine: `${h.method} ${h.target} HTTP/1.${h.minor}`,
      framing: () => requestFraming(h.minor, h.headers),
    };
  }
  const h = parseResponseHead(b, 0, end, limits);
  check(h.status >= 100 && h.status <= 599, "status out of range");
  return {
    ...h,
    startLine: `HTTP/1.${h.minor} ${h.status} ${h.reason}`,
    framing: () => responseFraming(h.minor, h.status, h.headers, split % 7 === 0),
  };
}

/**
 * The byte-level scanners of the hot path (`scanRequestHead`, `scanResponseHead`) must find
 * the same head end as `findHeadEnd` and give what the strict parsers give, whenever they
 * answer at all.
 */
function fastPathAgrees(
  target: FuzzTarget,
  input: Uint8Array,
  end: number | string,
  limits: HeadLimits,
  split: number,
): void {
  const fast = target === "request"
    ? scanRequestHead(input, 0, input.length, limits)
    : scanResponseHead(input, 0, input.length, limits);
  if (fast === null) return;
  check(fast.size === end, "fast path delimits the head differently");
  if (!("kept" in fast)) {
    const strict = outcome(() => parseRequestHead(input, 0, fast.size, limits));
    check(same(fast, strict), "request fast path differs from the strict parser");
    return;
  }
  const strict = parseResponseHead(input, 0, fast.size, limits);
  check(strict.status === fast.status && strict.minor === fast.minor, "status differs");
  const head = split % 7 === 0;
  const framing = outcome(() => responseFraming(strict.minor, strict.status, strict.headers, head));
  const fastFraming = outcome(() => responseFraming(fast.minor, fast.status, fast.framing, head));
  check(same(fastFraming, framing), "response fast path frames differently");
  if (typeof framing === "string") return;
  check(
    same(keptToHeaders(fast.kept, 1000), endToEndHeaders(strict.headers, framing.connection)),
    "response fast path keeps other fields",
  );
}

interface BodyResult {
  data: number[];
  trailers: string[];
  pos: number;
  done: boolean;
}

function decodeSplit(input: Uint8Array, start: number, cuts: number[]): BodyResult | string {
  return outcome(() => {
    const d = new ChunkedDecoder(SMALL);
    const data: number[] = [];
    let pos = start;
    const inside = cuts.filter((c) => c > start && c < input.length).sort((a, b) => a - b);
    for (const end of [...inside, input.length]) {
      if (end <= pos) continue;
      const next = d.decode(input, pos, end, (c) => {
        for (const b of c) data.push(b);
      });
      check(next >= pos && next <= end, "decode returned a position outside its range");
      check(next === end || d.done, "decode stopped early without finishing");
      pos = next;
      if (d.done) break;
    }
    return { data, trailers: d.trailers, pos, done: d.done };
  });
}

/** How far inputs got: counts of parsed heads and of chunked bodies decoded to the end. */
export interface FuzzStats {
  heads: number;
  bodies: number;
}

/** Decodes a chunked body from `start` whole, split at `split`, and byte by byte (short). */
function chunkedBody(input: Uint8Array, start: number, split: number, stats?: FuzzStats): void {
  const whole = decodeSplit(input, start, []);
  if (stats && typeof whole !== "string" && whole.done) stats.bodies++;
  const cut = start + (split % (input.length - start + 1));
  check(same(decodeSplit(input, start, [cut, cut + 1, cut + 7]), whole), "split changed decode");
  if (input.length - start <= 256) {
    const each = Array.from({ length: input.length - start }, (_, i) => start + i);
    check(same(decodeSplit(input, start, each), whole), "byte-wise feeding changed decode");
  }
}

/**
 * Feeds one input to `target`. Returns normally when the codec accepted or rejected it
 * properly; throws on a crash or a broken invariant.
 *
 * @param split a number used to pick split points and options
 * @param stats counts how far inputs got, when given
 */
export function fuzzOne(
  target: FuzzTarget,
  input: Uint8Array,
  split: number,
  stats?: FuzzStats,
): void {
  if (target === "chunked") return chunkedBody(input, 0, split, stats);
  const limits = split % 5 === 0 ? SMALL : LIMITS;
  const end = headEnd(input, limits.maxHeadBytes);
  fastPathAgrees(target, input, end, limits, split);
  if (typeof end === "string" || end < 0) return;
  const head = outcome(() => parseHead(target, input, end, limits, split));
  if (typeof head === "string") return;
  if (stats) stats.heads++;
  check(head.size === end, "head size");
  checkFields(head.headers);
  // Written back the way the proxy writes heads, it must read the same.
  const text = `${head.startLine}\r\n${fieldLines(head.headers)}\r\n`;
  const out = new Uint8Array(text.length);
  check(encodeHead(text, out) === text.length, "encodeHead size");
  const back = parseHead(target, out, out.length, LIMITS, split);
  check(same([back.startLine, back.headers], [head.startLine, head.headers]), "re-parse differs");
  const framing = outcome(head.framing);
  if (typeof framing !== "string" && framing.kind === "chunked") {
    chunkedBody(input, end, split, stats);
  }
}

// ---------------------------------------------------------------------------------------
// Inputs

// Pieces of HTTP/1.1 messages, "|"-separated (no fragment contains "|").
const FRAGMENTS = [
  "GET|POST|HEAD| |  |\t|/|/a?b=c|*|http://h/|HTTP/1.1|HTTP/1.0|HTTP/2.0|HTTP/1.2|http/1.1",
  "HTTP/1.1 200 OK|HTTP/1.1 204 |HTTP/1.0 304 x|HTTP/1.1 101 S|\r\n|\r\n\r\n|\n|\r|\r\r\n|\n\r",
  ":|: | :|Host|host: a|Content-Length|content-length: 5|Content-Length: 05|Content-Length: -1",
  "Content-Length: 0|Content-Length: 99999999999999999|Transfer-Encoding|transfer-encoding: chunked",
  "Transfer-Encoding: chunked, identity|Transfer-Encoding: gzip|Connection: close",
  'Connection: upgrade|Upgrade: websocket|Expect: 100-continue|chunked|identity|,|;|=|"|\\',
  "0|5|a|F|0x|-|+|hello|\x00|\x01|\x0b|\x7f|\x80|\xa0|\xe9|\xff|\xef\xbb\xbf|0\r\n\r\n",
  '5\r\nhello\r\n|3;a=b\r\nabc\r\n|1;q="x\\"y"\r\nz\r\n|0\r\nX: y\r\n\r\n|ffffffffffffff',
].join("|").split("|");

const TEMPLATES: Record<FuzzTarget, string[]> = {
  request: [
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /p?q=1 HTTP/1.0\r\nUser-Agent: x\r\nAccept: */*\r\n\r\n",
    "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-L: caf\xe9\r\n\r\n" +
    '3;e="v"\r\nabc\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n',
    "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
  ],
  response: [
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope",
    "HTTP/1.1 204 No Content\r\nX: y\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: grpc-status\r\n\r\n" +
    "1;a\r\nx\r\n0\r\ngrpc-status: 0\r\n\r\n",
  ],
  chunked: [
    "5\r\nhello\r\n0\r\n\r\n",
    "1\r\na\r\n2;x=y\r\nbc\r\n0\r\nTrailer-A: 1\r\nTrailer-B: two words\r\n\r\nNEXT",
    'a ; q="a;b" ; r\r\n0123456789\r\n000\r\n\r\n',
    "0\r\n\r\n",
  ],
};

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const fragment = fc.constantFrom(...FRAGMENTS.map(latin1));

type Mutation = (b: Uint8Array) => Uint8Array;

/** One edit of a message: flip, insert, delete, duplicate, or insert a long run. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]): Mutation => (b) => {
    if (b.length === 0) return b;
    const c = b.slice();
    c[at % c.length] = v;
    return c;
  }),
  fc.tuple(fc.nat(), fragment).map(([at, f]): Mutation => (b) => {
    const i = at % (b.length + 1);
    return concatBytes([b.subarray(0, i), f, b.subarray(i)]);
  }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 16 })).map(([at, n]): Mutation => (b) => {
    const i = at % (b.length + 1);
    return concatBytes([b.subarray(0, i), b.subarray(i + n)]);
  }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })).map(([at, n]): Mutation => (b) => {
    const i = at % (b.length + 1);
    return concatBytes([b.subarray(0, i + n), b.subarray(i)]);
  }),
  // Long runs (whitespace, digits, separators) find super-linear parsing.
  fc.tuple(
    fc.nat(),
    fc.constantFrom(" ", "\t", " \t", "a", "0", ";", "a ", ",", ":", "\r"),
    fc.integer({ min: 100, max: 20_000 }),
  ).map(([at, unit, n]): Mutation => (b) => {
    const i = at % (b.length + 1);
    return concatBytes([b.subarray(0, i), latin1(unit.repeat(n)), b.subarray(i)]);
  }),
);

/** Inputs for `target`: random bytes, fragment soups, and mutated valid messages. */
export function fuzzInput(target: FuzzTarget): fc.Arbitrary<Uint8Array> {
  // Mostly near-valid messages: they get past the first checks into framing and bodies.
  return fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength: 600 }), weight: 1 },
    { arbitrary: fc.array(fragment, { maxLength: 60 }).map(concatBytes), weight: 2 },
    {
      arbitrary: fc.tuple(
        fc.constantFrom(...TEMPLATES[target].map(latin1)),
        fc.array(mutation, { maxLength: 4 }),
      ).map(([t, ms]) => ms.reduce<Uint8Array>((b, m) => m(b), t)),
      weight: 6,
    },
  );
}

// ---------------------------------------------------------------------------------------
// Command line

const IN_WORKER = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
  "undefined";
/** Room for the input being tried, published for the watchdog. */
const WATCH_BYTES = 1 << 20;

interface Job {
  runs: number;
  seed: number;
  slowMs: number;
  /** [sequence, input length, target index] then the input bytes; null: no watchdog. */
  watch: SharedArrayBuffer | null;
}

interface JobResult {
  tried: number;
  findings: number;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Runs the fuzz job synchronously, reporting through `log`. */
function runJob(job: Job, log: (line: string) => void): JobResult {
  const batch = 10_000;
  const perTarget = Math.ceil(job.runs / FUZZ_TARGETS.length);
  const meta = job.watch && new Int32Array(job.watch, 0, 3);
  const bytes = job.watch && new Uint8Array(job.watch, 12);
  let tried = 0;
  let findings = 0;
  for (const [ti, target] of FUZZ_TARGETS.entries()) {
    const slow: Uint8Array[] = [];
    const stats: FuzzStats = { heads: 0, bodies: 0 };
    for (let done = 0, b = 0; done < perTarget; done += batch, b++) {
      const batchSeed = (job.seed + b * 7919 + ti * 104729) | 0;
      const result = fc.check(
        fc.property(fuzzInput(target), fc.nat(), (input, split) => {
          if (meta && bytes) {
            bytes.set(input.subarray(0, WATCH_BYTES));
            Atomics.store(meta, 1, input.length);
            Atomics.store(meta, 2, ti);
            Atomics.add(meta, 0, 1);
          }
          const t0 = performance.now();
          fuzzOne(target, input, split, stats);
          if (performance.now() - t0 > job.slowMs && slow.length < 5) {
            // Slow three times in a row, not a GC pause or a busy machine.
            let again = 0;
            for (let i = 0; i < 2; i++) {
              const t = performance.now();
              fuzzOne(target, input, split);
              if (performance.now() - t > job.slowMs) again++;
            }
            if (again === 2) slow.push(input);
          }
        }),
        { seed: batchSeed, numRuns: Math.min(batch, perTarget - done) },
      );
      tried += result.numRuns;
      if (result.failed) {
        findings++;
        const [input, split] = result.counterexample!;
        const err = result.errorInstance;
        log(`\nCRASH (${target}, batch seed ${batchSeed}, path ${result.counterexamplePath})`);
        log(`  ${err instanceof Error ? err.stack : String(err)}`);
        log(`  split ${split}, input (${input.length} bytes, shrunk) hex:`);
        log(`  ${hex(input)}`);
        log(`  as text: ${JSON.stringify(String.fromCharCode(...input.subarray(0, 400)))}`);
        break;
      }
    }
    for (const input of slow) {
      findings++;
      log(`\nSLOW (${target}): over ${job.slowMs} ms three times, ${input.length} bytes, hex:`);
      log(`  ${hex(input)}`);
    }
    const reached = target === "chunked"
      ? `${stats.bodies} complete bodies`
      : `${stats.heads} parsed heads, ${stats.bodies} complete chunked bodies`;
    log(`${target}: ${perTarget} inputs, ${reached}`);
  }
  return { tried, findings };
}

/**
 * Runs the job in a worker and watches it: an input that runs longer than `hangMs` is
 * printed (it cannot be interrupted in-process) and the worker is stopped.
 */
async function runWatched(job: Job, hangMs: number): Promise<JobResult> {
  const watch = new SharedArrayBuffer(12 + WATCH_BYTES);
  const meta = new Int32Array(watch, 0, 3);
  const worker = new Worker(import.meta.url, { type: "module" });
  const result = Promise.withResolvers<JobResult>();
  worker.onmessage = (e: MessageEvent) => {
    if (typeof e.data.log === "string") console.log(e.data.log);
    else result.resolve(e.data);
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    result.reject(e.error ?? new Error(e.message));
  };
  worker.postMessage({ ...job, watch });
  let seen = -1;
  let since = performance.now();
  const timer = setInterval(() => {
    const seq = Atomics.load(meta, 0);
    if (seq !== seen) {
      seen = seq;
      since = performance.now();
    } else if (performance.now() - since > hangMs) {
      worker.terminate();
      const len = Atomics.load(meta, 1);
      const input = new Uint8Array(watch, 12, Math.min(len, WATCH_BYTES)).slice();
      console.log(`\nHANG (${FUZZ_TARGETS[meta[2]]}): input #${seq} ran over ${hangMs} ms`);
      console.log(`  ${len} bytes${len > WATCH_BYTES ? " (truncated)" : ""}, hex:`);
      console.log(`  ${hex(input)}`);
      result.resolve({ tried: seq, findings: 1 });
    }
  }, 100);
  try {
    return await result.promise;
  } finally {
    clearInterval(timer);
    worker.terminate();
  }
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`${name} needs a non-negative integer, got ${JSON.stringify(args[i + 1])}`);
    Deno.exit(2);
  }
  return v;
}

async function main(args: string[]): Promise<number> {
  const job: Job = {
    runs: flag(args, "--runs", 10_000),
    seed: flag(args, "--seed", Date.now() % 2 ** 31),
    slowMs: flag(args, "--slow-ms", 250),
    watch: null,
  };
  const hangMs = flag(args, "--hang-ms", 10_000);
  const self = new URL(import.meta.url);
  const canWatch = self.protocol === "file:" &&
    (await Deno.permissions.query({ name: "read", path: self })).state === "granted";
  console.log(
    `fuzz_h1: ${job.runs} inputs, seed ${job.seed}, slow ${job.slowMs} ms, ` +
      (canWatch ? `hang ${hangMs} ms` : "no hang watchdog (needs --allow-read)"),
  );
  const started = performance.now();
  const { tried, findings } = canWatch
    ? await runWatched(job, hangMs)
    : runJob(job, (line) => console.log(line));
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`tried ${tried} inputs in ${secs} s: ${findings} finding(s)`);
  return findings > 0 ? 1 : 0;
}

if (IN_WORKER) {
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent<Job>) => void) | null;
    postMessage(message: unknown): void;
  };
  scope.onmessage = (e) => {
    scope.postMessage(runJob(e.data, (log) => scope.postMessage({ log })));
  };
} else if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

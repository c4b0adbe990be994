import type { Rng } from "../../core/rng.ts";

/**
 * Bursty loss after Gilbert–Elliott: each directed link is in a good or a bad state, and
 * moves between them once per packet sent on it. Losses cluster while the link is bad.
 * The long-run share of packets sent in the bad state is
 * `enterBad / (enterBad + exitBad)`, and the mean burst length is `1 / exitBad` packets.
 */
export interface BurstLoss {
  /** Probability per packet of going from the good to the bad state, in [0, 1]. */
  enterBad: number;
  /** Probability per packet of going from the bad back to the good state, in (0, 1]. */
  exitBad: number;
  /** Loss probability in the bad state (default 1). */
  lossBad?: number;
  /** Loss probability in the good state (default 0). */
  lossGood?: number;
}

/**
 * How a directed link between two simulated nodes treats traffic. Every field is
 * optional; what is left out comes from the network's defaults.
 *
 * One-way latency is `latencyMs + jitter`, where jitter is drawn per packet:
 * - `"uniform"` (default): uniform in `[0, jitterMs)`;
 * - `"lognormal"`: `jitterMs · e^(σ·Z)` with `Z` standard normal, so `jitterMs` is the
 *   median and `jitterSigma` (σ, default 0.5) sets the tail — a few packets are much later.
 *
 * Reordering is not a separate knob: it falls out of jitter, since a later packet can draw
 * a smaller delay than an earlier one on the same link. Packets are never reordered on a
 * link without jitter. Streams are never reordered or lost (they model TCP).
 */
export interface LinkConditions {
  /** Independent loss probability per packet, in [0, 1] (default 0). */
  loss?: number;
  /** Bursty loss on top of `loss` (a packet is lost when either drops it); off by default. */
  burst?: BurstLoss | null;
  /** Base one-way latency in ms (default 1). */
  latencyMs?: number;
  /** Jitter scale in ms (default 0): the uniform range or the log-normal median. */
  jitterMs?: number;
  /** Jitter distribution (default `"uniform"`). */
  jitter?: "uniform" | "lognormal";
  /** σ of the log-normal jitter (default 0.5). */
  jitterSigma?: number;
  /** Probability that a delivered packet arrives twice, the copy with its own delay (default 0). */
  duplicate?: number;
}

/** `LinkConditions` with every field filled in and checked. */
export interface ResolvedConditions {
  readonly loss: number;
  readonly burst: Required<BurstLoss> | null;
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly lognormal: boolean;
  readonly jitterSigma: number;
  readonly duplicate: number;
}

/** The conditions of a perfect 1 ms link. */
export const IDEAL_LINK: ResolvedConditions = {
  loss: 0,
  burst: null,
  latencyMs: 1,
  jitterMs: 0,
  lognormal: false,
  jitterSigma: 0.5,
  duplicate: 0,
};

/**
 * Fills `c` in from `base` and checks every value.
 *
 * @throws {RangeError} for a probability outside [0, 1] or a negative time
 */
export function resolveConditions(
  c: LinkConditions,
  base: ResolvedConditions = IDEAL_LINK,
): ResolvedConditions {
  const burst = c.burst === undefined ? base.burst : c.burst === null ? null : {
    enterBad: probability("burst.enterBad", c.burst.enterBad),
    exitBad: probability("burst.exitBad", c.burst.exitBad),
    lossBad: probability("burst.lossBad", c.burst.lossBad ?? 1),
    lossGood: probability("burst.lossGood", c.burst.lossGood ?? 0),
  };
  if (burst && burst.exitBad === 0) {
    throw new RangeError(
      `burst.exitBad must be above 0 (got 0): a link could never leave the bad state; use loss: 1 to cut a link`,
    );
  }
  return {
    loss: probability("loss", c.loss ?? base.loss),
    burst,
    latencyMs: nonNegative("latencyMs", c.latencyMs ?? base.latencyMs),
    jitterMs: nonNegative("jitterMs", c.jitterMs ?? base.jitterMs),
    lognormal: c.jitter === undefined ? base.lognormal : c.jitter === "lognormal",
    jitterSigma: nonNegative("jitterSigma", c.jitterSigma ?? base.jitterSigma),
    duplicate: probability("duplicate", c.duplicate ?? base.duplicate),
  };
}

/** Draws one one-way delay in ms for a packet or stream message on a link. */
export function sampleDelay(c: ResolvedConditions, rng: Rng): number {
  if (c.jitterMs === 0) return c.latencyMs;
  if (!c.lognormal) return c.latencyMs + rng() * c.jitterMs;
  // Box–Muller; 1 - u keeps the logarithm finite.
  const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return c.latencyMs + c.jitterMs * Math.exp(c.jitterSigma * z);
}

function probability(name: string, v: number): number {
  if (!(v >= 0 && v <= 1)) {
    throw new RangeError(`Link condition ${name} must be a probability in [0, 1], got ${v}`);
  }
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!(v >= 0) || !Number.isFinite(v)) {
    throw new RangeError(`Link condition ${name} must be a finite number ≥ 0, got ${v}`);
  }
  return v;
}

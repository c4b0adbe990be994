import type { LinkConditions } from "../../src/net/sim/mod.ts";

/** A network condition the benchmark runs every preset under. */
export interface Scenario {
  /** Short name, used in table headings and by `--scenario`. */
  id: string;
  /** What the table heading says. */
  title: string;
  /** Link conditions during the measured phase (the cluster boots on a clean LAN). */
  link: LinkConditions;
  /** Share of nodes that stall now and then (0: none). */
  stallShare: number;
}

/** The LAN every scenario starts from: 2 ms one way, up to 1 ms uniform jitter. */
export const LAN: LinkConditions = { latencyMs: 2, jitterMs: 1 };

/** The scenarios of issue 4's simulation benchmark. */
export const SCENARIOS: readonly Scenario[] = [
  { id: "loss0", title: "loss 0 %", link: { ...LAN }, stallShare: 0 },
  { id: "loss1", title: "loss 1 %", link: { ...LAN, loss: 0.01 }, stallShare: 0 },
  { id: "loss5", title: "loss 5 %", link: { ...LAN, loss: 0.05 }, stallShare: 0 },
  {
    id: "bursty",
    title: "bursty loss (Gilbert–Elliott: 4.8 % of packets in bursts of 5 on average)",
    link: { ...LAN, burst: { enterBad: 0.01, exitBad: 0.2 } },
    stallShare: 0,
  },
  {
    id: "jitter",
    title: "jitter (2 ms + log-normal, median 20 ms, σ 1)",
    link: { latencyMs: 2, jitterMs: 20, jitter: "lognormal", jitterSigma: 1 },
    stallShare: 0,
  },
  {
    id: "stall",
    title: "1 % of nodes stall (2–6 s every 10–40 s), LAN",
    link: { ...LAN },
    stallShare: 0.01,
  },
];

import type { Blame, FalseCounts } from "./run_scenario.ts";
import type { Pooled, Summary } from "./stats.ts";

const s = (ms: number) => (ms / 1000).toFixed(2);

/** `mean / p50 / p99 / max` in seconds, or `–` without samples. */
export function cell(x: Summary | undefined): string {
  return x ? `${s(x.mean)} / ${s(x.p50)} / ${s(x.p99)} / ${s(x.max)}` : "–";
}

/** A rate per node-hour; a zero count shows its 95 % upper bound (rule of three). */
export function rate(count: number, nodeHours: number): string {
  if (count === 0) return `0 (< ${(3 / nodeHours).toPrecision(2)})`;
  return `${(count / nodeHours).toPrecision(3)} (${count})`;
}

function split(c: FalseCounts, nodeHours: number): string[] {
  const e = c.episodes;
  const total = Object.values(e).reduce((a, b) => a + b, 0);
  const part = (k: Blame) => (e[k] / nodeHours).toPrecision(2);
  const views = Object.values(c.views).reduce((a, b) => a + b, 0);
  return [
    rate(total, nodeHours),
    `${part("neither")} · ${part("observer")} · ${part("subject")} · ${part("both")}`,
    (views / nodeHours).toPrecision(3),
  ];
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

const KINDS = ["ping", "ack", "ping_req", "nack", "gossip"];

/** The three Markdown tables of one scenario at one size: detection, false positives, load. */
export function scenarioTables(
  heading: string,
  byPreset: ReadonlyMap<string, Pooled>,
): string {
  const first = [...byPreset.values()][0];
  const out = [
    `### ${heading}`,
    "",
    `${first.runs} seed(s), ${first.crashes} crashes and ${first.joins} joins per preset; ` +
    `${first.nodeHours.toFixed(1)} node-hours measured. Times in s: mean / p50 / p99 / max.`,
    "",
    table(
      [
        "preset",
        "T_suspect_first",
        "T_dead_first",
        "T_dead_all",
        "undetected",
        "join → 50 %",
        "join → 99 %",
        "join → 100 %",
      ],
      [...byPreset].map(([name, p]) => [
        name,
        cell(p.suspectFirst),
        cell(p.deadFirst),
        cell(p.deadAll),
        `${p.undetected}/${p.crashes}`,
        cell(p.dissemination.p50),
        cell(p.dissemination.p99),
        p.dissemination.missed > 0
          ? `${cell(p.dissemination.p100)} (${p.dissemination.missed} missed)`
          : cell(p.dissemination.p100),
      ]),
    ),
    "",
    table(
      [
        "preset",
        "false deaths /node-h",
        "split: neither · obs. · subj. · both stalled",
        "observer views /node-h",
        "false suspicions /node-h",
        "split: neither · obs. · subj. · both stalled",
        "observer views /node-h",
      ],
      [...byPreset].map(([name, p]) => [
        name,
        ...split(p.falseDeaths, p.nodeHours),
        ...split(p.falseSuspicions, p.nodeHours),
      ]),
    ),
    "",
    table(
      [
        "preset",
        "packets /node/s",
        "bytes /node/s",
        ...KINDS.map((k) => `${k} pkt/s (B/s)`),
        "push-pull B/s",
      ],
      [...byPreset].map(([name, p]) => {
        let packets = 0;
        let bytes = 0;
        for (const t of p.load.values()) {
          packets += t.packets;
          bytes += t.bytes;
        }
        return [
          name,
          packets.toFixed(2),
          bytes.toFixed(0),
          ...KINDS.map((k) => {
            const t = p.load.get(k);
            return t ? `${t.packets.toFixed(2)} (${t.bytes.toFixed(0)})` : "0";
          }),
          p.pushPullBytes.toFixed(0),
        ];
      }),
    ),
    "",
  ];
  return out.join("\n");
}

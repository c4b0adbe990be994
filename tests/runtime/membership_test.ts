import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { Logger, mathRng, systemClock } from "../../src/core/mod.ts";
import { SKIFF_CONSERVATIVE, SKIFF_DEFAULTS } from "../../src/discovery/gossip/swim_config.ts";
import {
  type HostFacts,
  Membership,
  type MembershipOptions,
  swimConfig,
} from "../../src/runtime/membership.ts";
import { MetricsRegistry, renderPrometheus } from "../../src/telemetry/mod.ts";
import { freePort, waitFor } from "../_harness/mod.ts";

const host: HostFacts = {
  hostname: () => "testhost",
  privateAddress: () => undefined,
  cpu: () => 0,
};

function gossipSection(yaml: string) {
  const config = parseConfig(
    `listeners: [{ name: in, address: "127.0.0.1:0", routes: [] }]
gossip:
${yaml.replace(/^/gm, "  ")}
`,
    "membership_test.yaml",
  );
  return config.gossip!;
}

function start(yaml: string, lines: string[] = [], opts?: MembershipOptions) {
  const registry = new MetricsRegistry();
  const log = new Logger({ clock: systemClock, sink: (l) => lines.push(l), level: "debug" });
  return Membership.start(gossipSection(yaml), {
    clock: systemClock,
    rng: mathRng,
    log,
    registry,
    host,
  }, opts).then((m) => ({ m, registry }));
}

const FAST = `probe_interval: 200ms
probe_timeout: 100ms
gossip_interval: 100ms`;

Deno.test("membership: a node whose seed is not up yet keeps trying and joins once it is", async () => {
  const port = freePort();
  const lines: string[] = [];
  const a = await start(`name: a\nbind: 127.0.0.1:0\nseeds: ["127.0.0.1:${port}"]\n${FAST}`, lines);
  try {
    await waitFor(
      "a to report that no seed answered",
      () => lines.some((l) => l.includes("no gossip seed answered")),
      10_000,
    );
    const b = await start(`name: b\nbind: 127.0.0.1:${port}\n${FAST}`);
    try {
      await waitFor(
        "a and b to see each other",
        () =>
          a.m.members().some((m) => m.name === "b" && m.state === "alive") &&
          b.m.members().some((m) => m.name === "a" && m.state === "alive"),
        20_000,
      );
      const view = a.m.view();
      assert.equal(view.self, "a");
      assert.deepEqual(view.members.map((m) => [m.name, m.state]), [["a", "alive"], [
        "b",
        "alive",
      ]]);
      assert.equal(view.members[1].address, `127.0.0.1:${port}`);
      assert.match(
        renderPrometheus(a.registry),
        /skiff_gossip_members\{state="alive"\} 2\n/,
      );
    } finally {
      await b.m.stop();
    }
    // b left gracefully: a hears of it.
    await waitFor(
      "a to hold b as left",
      () => a.m.members().some((m) => m.name === "b" && m.state === "left"),
      20_000,
    );
  } finally {
    await a.m.stop();
  }
});

Deno.test("membership: the default name is the host name and the bound port", async () => {
  const a = await start(`bind: 127.0.0.1:0`);
  try {
    const port = a.m.address.split(":")[1];
    assert.equal(a.m.name, `testhost-${port}`);
    assert.equal(a.m.view().members[0].name, `testhost-${port}`);
  } finally {
    await a.m.stop();
  }
});

Deno.test("membership: services announced reach other members' resolvers", async () => {
  const a = await start(`name: a\nbind: 127.0.0.1:0\n${FAST}`);
  const b = await start(
    `name: b\nbind: 127.0.0.1:0\nseeds: ["${a.m.address}"]\n${FAST}\nservices:\n  - { name: web, port: 8080, labels: { version: v2 } }`,
  );
  try {
    const r = a.m.resolver("web");
    await waitFor("web at a's resolver", () => r.current().endpoints.length === 1, 20_000);
    const ep = r.current().endpoints[0];
    assert.equal(ep.key, "127.0.0.1:8080");
    assert.deepEqual(ep.labels, { version: "v2", member: "b" });
    assert.equal(a.m.resolver("web"), r, "one resolver per service");
    assert.equal(a.m.resolver("other").current().endpoints.length, 0);
  } finally {
    await b.m.stop();
    await a.m.stop();
  }
});

Deno.test("membership: a preset's timings are overridden by the config", () => {
  const swim = swimConfig(gossipSection(`probe_interval: 2s\npush_pull_interval: 1m`));
  assert.equal(swim.probeIntervalMs, 2000);
  assert.equal(swim.pushPullIntervalMs, 60_000);
  assert.equal(swim.probeTimeoutMs, SKIFF_DEFAULTS.probeTimeoutMs);
  assert.equal(swimConfig(gossipSection(`preset: basic`)).buddy, false);
  assert.equal(
    swimConfig(gossipSection(`preset: skiff-conservative`)).suspicionQuorumMs,
    SKIFF_CONSERVATIVE.suspicionQuorumMs,
  );
});

Deno.test("membership: a seed with another key neither answers nor counts as joined", async () => {
  const k1 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const k2 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const a = await start(`name: a\nbind: 127.0.0.1:0\nkeys: ["${k1}"]\n${FAST}`);
  const lines: string[] = [];
  const b = await start(
    `name: b\nbind: 127.0.0.1:0\nkeys: ["${k2}"]\nseeds: ["${a.m.address}"]\n${FAST}`,
    lines,
  );
  try {
    const retry = await waitFor(
      "b to retry its join",
      () =>
        lines.map((l) => JSON.parse(l)).find((l) =>
          l.msg === "no gossip seed answered with a readable state; retrying"
        ),
      10_000,
    );
    assert.equal(retry.answered, 0, "a did not answer a state it cannot read");
    assert.ok(!lines.some((l) => l.includes("gossip joined")));
    assert.deepEqual(a.m.members(), []);
    assert.deepEqual(b.m.members(), []);
  } finally {
    await b.m.stop();
    await a.m.stop();
  }
});

Deno.test("membership: the first incarnation is an option, and extra seeds are joined first", async () => {
  const a = await start(`name: a\nbind: 127.0.0.1:0\n${FAST}`);
  // No seeds in the config: the option's seed is the only way in.
  const b = await start(`name: b\nbind: 127.0.0.1:0\n${FAST}`, [], {
    incarnation: 7,
    seeds: [a.m.address],
  });
  try {
    assert.equal(b.m.incarnation, 7);
    assert.equal(b.m.view().members[0].incarnation, 7);
    assert.equal(await b.m.joined, true);
    const seen = await waitFor(
      "a to learn b",
      () => a.m.members().find((m) => m.name === "b"),
      20_000,
    );
    assert.equal(seen!.incarnation, 7);
    assert.equal(await a.m.joined, false, "a has no seeds: nothing to join through");
  } finally {
    await b.m.stop();
    await a.m.stop();
  }
});

Deno.test(
  "membership: stopped without a leave, a member is continued by a successor at a higher incarnation",
  async () => {
    const a = await start(`name: a\nbind: 127.0.0.1:0\n${FAST}`);
    const port = freePort();
    const old = await start(`name: b\nbind: 127.0.0.1:${port}\nseeds: ["${a.m.address}"]\n${FAST}`);
    let successor: Awaited<ReturnType<typeof start>> | undefined;
    try {
      await waitFor("a to hold b alive", () => a.m.members().some((m) => m.name === "b"), 20_000);
      const states: string[] = [];
      const record = () => {
        const b = a.m.members().find((m) => m.name === "b");
        if (b) states.push(`${b.state}@${b.incarnation}`);
        return b;
      };
      const lines: string[] = [];
      const incarnation = old.m.incarnation;
      await old.m.stop({ leave: false });
      successor = await start(`name: b\nbind: 127.0.0.1:${port}\n${FAST}`, lines, {
        incarnation: incarnation + 1,
        seeds: [a.m.address],
      });
      assert.equal(await successor.m.joined, true);
      await waitFor("a to hold b alive at the successor's incarnation", () => {
        const b = record();
        return b?.state === "alive" && b.incarnation === incarnation + 1;
      }, 20_000);
      assert.deepEqual(
        states.filter((s) => s.startsWith("left") || s.startsWith("dead")),
        [],
        `a held b as: ${states.join(", ")}`,
      );
    } finally {
      await successor?.m.stop();
      await old.m.stop();
      await a.m.stop();
    }
  },
);

Deno.test("membership: a gossip port in use is refused with the address and the fix", async () => {
  const port = freePort();
  const held = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
  try {
    await assert.rejects(
      start(`name: a\nbind: 127.0.0.1:${port}`),
      (err: Error) =>
        err instanceof Deno.errors.AddrInUse &&
        err.message.includes(`gossip cannot bind 127.0.0.1:${port}`) &&
        err.message.includes("gossip.bind"),
    );
  } finally {
    held.close();
  }
});

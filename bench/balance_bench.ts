// ns per pick of each load-balancing policy with 3, 30 and 300 hosts.
// Run: deno bench bench/balance_bench.ts
import { mathRng, systemClock } from "../src/core/mod.ts";
import { toEndpoint } from "../src/discovery/mod.ts";
import { createLoadBalancer, Host, type LoadBalancerPolicy } from "../src/dataplane/balance/mod.ts";

const POLICIES: LoadBalancerPolicy[] = ["round_robin", "least_request", "peak_ewma", "ring_hash"];
const KEYS = Array.from({ length: 1024 }, (_, i) => `session-${i * 7919}`);

function hosts(n: number, weighted: boolean): Host[] {
  const now = systemClock.monotonic();
  return Array.from({ length: n }, (_, i) => {
    const host = new Host(
      toEndpoint({
        address: { hostname: `10.1.${i >> 8}.${i & 255}`, port: 8080 },
        weight: weighted ? 1 + (i % 5) : 1,
      }),
      now,
    );
    // Some load and latency history so that P2C has something to compare.
    for (let r = 0; r < i % 4; r++) host.begin();
    host.begin();
    host.end(now, 1 + (i % 7), true);
    return host;
  });
}

for (const weighted of [false, true]) {
  for (const n of [3, 30, 300]) {
    for (const policy of POLICIES) {
      const lb = createLoadBalancer(policy, { rng: mathRng });
      lb.update(hosts(n, weighted));
      let k = 0;
      const keyed = policy === "ring_hash";
      Deno.bench({
        name: `${policy}${keyed ? " (hash key)" : ""}`,
        group: `${n} hosts, ${weighted ? "weights 1-5" : "equal weights"}`,
        baseline: policy === "round_robin",
        fn: () => {
          lb.pick(keyed ? KEYS[k++ & 1023] : undefined);
        },
      });
    }
  }
}

// Retries: one host already tried.
for (const n of [3, 30, 300]) {
  for (const policy of POLICIES) {
    const lb = createLoadBalancer(policy, { rng: mathRng });
    const list = hosts(n, false);
    lb.update(list);
    const avoid = new Set([list[0]]);
    let k = 0;
    Deno.bench({
      name: `${policy}, avoiding one host`,
      group: `${n} hosts, retry`,
      fn: () => {
        lb.pick(KEYS[k++ & 1023], avoid);
      },
    });
  }
}

// Rebuild cost on an endpoint change.
for (const n of [3, 30, 300]) {
  for (const policy of POLICIES) {
    const lb = createLoadBalancer(policy, { rng: mathRng });
    const a = hosts(n, true);
    const b = a.slice(1);
    let flip = false;
    Deno.bench({
      name: `${policy} update`,
      group: `${n} hosts, update`,
      fn: () => {
        flip = !flip;
        lb.update(flip ? a : b);
      },
    });
  }
}

// Load balancing through the proxy: which endpoint real requests land on, per policy.
// Request counts are bounded and bounds are generous, so the tests cannot flake.
import assert from "node:assert/strict";
import { startHttpUpstream, startSidecar, waitFor } from "../_harness/mod.ts";
import { clusterView } from "./_admin_api.ts";

function config(policy: string, endpoints: { port: number; weight?: number }[]): string {
  return `
listeners:
  - name: web
    address: 127.0.0.1:0
    routes:
      - name: r
        cluster: c
        hash_header: x-user
clusters:
  - name: c
    lb_policy: ${policy}
    endpoints:
${
    endpoints.map((e) => `      - { address: "127.0.0.1:${e.port}", weight: ${e.weight ?? 1} }`)
      .join("\n")
  }
`;
}

/** Sends a GET and returns the name of the upstream that answered. */
async function who(base: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${base}/x`, { headers });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  return body;
}

function count(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

Deno.test("load balancing: round_robin alternates between two endpoints", async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  await using s = await startSidecar(config("round_robin", [{ port: a.port }, { port: b.port }]));
  const seen: string[] = [];
  for (let i = 0; i < 20; i++) seen.push(await who(s.url("web")));
  for (let i = 1; i < seen.length; i++) {
    assert.notEqual(seen[i], seen[i - 1], `requests ${i - 1} and ${i}: ${seen.join(" ")}`);
  }
  assert.deepEqual(count(seen), { a: 10, b: 10 });
});

Deno.test("load balancing: round_robin honours endpoint weights", async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  await using s = await startSidecar(
    config("round_robin", [{ port: a.port, weight: 3 }, { port: b.port, weight: 1 }]),
  );
  const seen: string[] = [];
  for (let i = 0; i < 40; i++) seen.push(await who(s.url("web")));
  const c = count(seen);
  // Exactly 30/10 over whole cycles; the bounds only ask for "roughly 3:1".
  assert.ok(c.a >= 24 && c.a <= 36, `a got ${c.a} of 40`);
  assert.equal(c.a + (c.b ?? 0), 40);
});

Deno.test("load balancing: least_request honours endpoint weights", async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  await using s = await startSidecar(
    config("least_request", [{ port: a.port, weight: 9 }, { port: b.port, weight: 1 }]),
  );
  const seen: string[] = [];
  for (let i = 0; i < 100; i++) seen.push(await who(s.url("web")));
  const c = count(seen);
  // Idle endpoints tie, so the weighted first draw decides: about 90 % to a. The chance of
  // fewer than 60 is below 1e-12.
  assert.ok(c.a >= 60, `a got ${c.a} of 100`);
});

Deno.test("load balancing: ring_hash keeps each user on one endpoint and spreads users", async () => {
  await using a = startHttpUpstream("a");
  await using b = startHttpUpstream("b");
  await using s = await startSidecar(config("ring_hash", [{ port: a.port }, { port: b.port }]));
  const home = new Map<string, string>();
  for (let round = 0; round < 3; round++) {
    for (let u = 0; u < 40; u++) {
      const user = `user-${u}`;
      const got = await who(s.url("web"), { "x-user": user });
      if (round === 0) home.set(user, got);
      else assert.equal(got, home.get(user), `${user} moved in round ${round}`);
    }
  }
  const c = count([...home.values()]);
  // 40 users all hashing to one of two endpoints has a chance of about 2e-12.
  assert.ok((c.a ?? 0) >= 1 && (c.b ?? 0) >= 1, `users per endpoint: ${JSON.stringify(c)}`);
});

Deno.test("load balancing: least_request avoids an endpoint holding long requests", async () => {
  // Both endpoints hold /hold requests until told to answer.
  const release = { a: Promise.withResolvers<void>(), b: Promise.withResolvers<void>() };
  let onHold = (_name: "a" | "b") => {};
  const holding = (name: "a" | "b") => (req: Request) => {
    if (new URL(req.url).pathname !== "/hold") return new Response(name);
    onHold(name);
    return release[name].promise.then(() => new Response(name));
  };
  await using a = startHttpUpstream("a", holding("a"));
  await using b = startHttpUpstream("b", holding("b"));
  await using s = await startSidecar(
    `admin: { address: "127.0.0.1:0" }\n` +
      config("least_request", [{ port: a.port }, { port: b.port }]),
  );
  const held = { a: [] as Promise<Response>[], b: [] as Promise<Response>[] };
  try {
    // Send /hold requests until a holds five of them.
    for (let i = 0; i < 100 && held.a.length < 5; i++) {
      const landed = Promise.withResolvers<"a" | "b">();
      onHold = landed.resolve;
      const p = fetch(`${s.url("web")}/hold`);
      held[await landed.promise].push(p);
    }
    assert.equal(held.a.length, 5, "a never held five requests");
    // Let b finish its requests, and wait until skiff has closed them.
    release.b.resolve();
    for (const p of held.b) await (await p).text();
    await waitFor("b to have no requests in flight", async () => {
      const c = await clusterView(s.adminUrl, "c");
      return c.endpoints.find((e) => e.address === `127.0.0.1:${b.port}`)!.active_requests === 0;
    });
    // With two endpoints both are always drawn, and b has fewer requests in flight.
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) seen.push(await who(s.url("web")));
    assert.deepEqual(count(seen), { b: 20 });
  } finally {
    release.a.resolve();
    release.b.resolve();
    for (const p of [...held.a, ...held.b]) {
      const res = await p;
      if (!res.bodyUsed) await res.body?.cancel();
    }
  }
});

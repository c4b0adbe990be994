import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import { ConfigError, type ConfigIssue, parseConfig } from "../../src/config/mod.ts";

/** The issues `parseConfig` reports for `text`; fails when it accepts the text. */
function issuesOf(text: string): ConfigIssue[] {
  try {
    parseConfig(text, "t.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  assert.fail("the config was accepted, but a ConfigError was expected");
}

/** Picks the fields worth comparing, leaving the (golden-tested) wording aside. */
function where(issues: ConfigIssue[]): string[] {
  return issues.map((i) => `${i.line}:${i.column} ${i.path}`);
}

const MINIMAL = `listeners:
  - name: ingress
    address: 127.0.0.1:10000
    routes:
      - cluster: demo
clusters:
  - name: demo
    endpoints:
      - address: "[::1]:10001"
`;

Deno.test("parseConfig applies defaults and converts durations and addresses", () => {
  const config = parseConfig(MINIMAL, "t.yaml");
  const listener = config.listeners[0];
  assert.deepEqual(listener.address, { hostname: "127.0.0.1", port: 10000 });
  assert.equal(listener.protocol, "http");
  assert.equal(listener.timeouts.idle, 60_000);
  assert.equal(listener.detection.timeout, 100);
  const route = listener.routes[0];
  assert.equal(route.timeout, 15_000);
  assert.deepEqual(route.match.headers, []);
  assert.equal(route.retry, undefined);
  const cluster = config.clusters[0];
  assert.equal(cluster.lb_policy, "round_robin");
  assert.equal(cluster.connect_timeout, 1_000);
  assert.equal(cluster.pool.idle_timeout, 60_000);
  assert.deepEqual(cluster.endpoints[0].address, { hostname: "::1", port: 10001 });
  assert.equal(config.access_log.sink, "off");
  assert.equal(config.admin, undefined);
});

Deno.test("parseConfig applies the retry defaults when only retry: {} is given", () => {
  const config = parseConfig(
    MINIMAL.replace("- cluster: demo", "- cluster: demo\n        retry: {}"),
    "t",
  );
  assert.deepEqual(config.listeners[0].routes[0].retry, {
    retry_on: ["connect-failure", "reset", "gateway-error"],
    num_retries: 1,
    retriable_status_codes: [],
    backoff: { base_interval: 25 },
  });
});

Deno.test("parseConfig lower-cases header names", () => {
  const text = MINIMAL.replace(
    "- cluster: demo",
    "- cluster: demo\n        request_headers_to_remove: [X-Debug]",
  );
  assert.deepEqual(parseConfig(text, "t").listeners[0].routes[0].request_headers_to_remove, [
    "x-debug",
  ]);
});

Deno.test("parseConfig accepts anchors and aliases and a byte order mark", () => {
  const text = "\uFEFF" + MINIMAL.replace("- cluster: demo", "- &r { cluster: demo }\n      - *r");
  const config = parseConfig(text, "t");
  assert.equal(config.listeners[0].routes.length, 2);
});

Deno.test("parseConfig reports an unknown key at the key itself, with the file name", () => {
  const issues = issuesOf(
    MINIMAL.replace("- cluster: demo", "- cluster: demo\n        retires: 2"),
  );
  assert.equal(issues.length, 1);
  const [issue] = issues;
  assert.equal(issue.file, "t.yaml");
  assert.deepEqual([issue.line, issue.column], [6, 9]);
  assert.equal(issue.path, "listeners[0].routes[0].retires");
  assert.equal(issue.message, 'unknown key "retires" — did you mean "retry"?');
  assert.match(issue.fix ?? "", /timeout, retry, hash_header/);
});

Deno.test("parseConfig reports each unknown key of one mapping on its own", () => {
  const issues = issuesOf(MINIMAL + "foo: 1\nbar: 2\n");
  assert.deepEqual(where(issues), ["10:1 foo", "11:1 bar"]);
});

Deno.test("parseConfig points a missing key at the mapping that lacks it", () => {
  const issues = issuesOf(MINIMAL.replace("    address: 127.0.0.1:10000\n", ""));
  assert.deepEqual(where(issues), ["2:5 listeners[0].address"]);
  assert.equal(issues[0].message, 'missing required key "address"');
});

Deno.test("parseConfig points an empty value at its key", () => {
  const issues = issuesOf(MINIMAL.replace("address: 127.0.0.1:10000", "address:"));
  assert.deepEqual(where(issues), ["3:5 listeners[0].address"]);
  assert.match(issues[0].message, /got an empty value/);
});

Deno.test("parseConfig points a wrong value at the value", () => {
  const issues = issuesOf(MINIMAL.replace("address: 127.0.0.1:10000", "address: nowhere"));
  assert.deepEqual(where(issues), ["3:14 listeners[0].address"]);
  assert.equal(issues[0].fix, 'add the port, e.g. "nowhere:8080"');
});

Deno.test("parseConfig quotes keys that are not identifiers in paths", () => {
  const text = MINIMAL + '        labels: { "app.kubernetes.io/name": 3 }\n';
  assert.deepEqual(where(issuesOf(text)), [
    '10:45 clusters[0].endpoints[0].labels["app.kubernetes.io/name"]',
  ]);
});

Deno.test("parseConfig reports every schema problem at once, in file order", () => {
  const text = `clusters:
  - name: demo
    lb_policy: random
listeners:
  - name: a
    address: 1.2.3.4
    protocol: udp
  - address: 127.0.0.1:1
foo: bar
`;
  assert.deepEqual(where(issuesOf(text)), [
    "3:16 clusters[0].lb_policy",
    "6:14 listeners[0].address",
    "7:15 listeners[0].protocol",
    "8:5 listeners[1].name",
    "9:1 foo",
  ]);
});

Deno.test("parseConfig stops at YAML syntax errors without guessing at the schema", () => {
  const issues = issuesOf("listeners: [\nfoo: 1\n");
  assert.ok(issues.length >= 1);
  for (const issue of issues) {
    assert.equal(issue.path, "");
    assert.match(issue.message, /^invalid YAML: /);
  }
});

Deno.test("parseConfig refuses a key written twice, together with schema problems", () => {
  const text = MINIMAL.replace("- name: demo", "- name: demo\n    name: demo\n    lb: x");
  const issues = issuesOf(text);
  assert.deepEqual(where(issues), ["8:5 clusters[0].name", "9:5 clusters[0].lb"]);
  assert.equal(issues[0].message, 'duplicate key "name" — it is already set on line 7');
});

Deno.test("parseConfig reports reference problems together with schema problems", () => {
  const dangling = MINIMAL.replace("- cluster: demo", "- cluster: dmeo");
  const [issue] = issuesOf(dangling);
  assert.equal(issue.message, 'unknown cluster "dmeo" — did you mean "demo"?');
  assert.deepEqual(where([issue]), ["5:18 listeners[0].routes[0].cluster"]);
  const alsoBroken = dangling.replace("address: 127.0.0.1:10000", "address: x");
  assert.deepEqual(where(issuesOf(alsoBroken)), [
    "3:14 listeners[0].address",
    "5:18 listeners[0].routes[0].cluster",
  ]);
  const twice = alsoBroken + "  - name: demo\n    lb_policy: random\n";
  assert.deepEqual(where(issuesOf(twice)), [
    "3:14 listeners[0].address",
    "5:18 listeners[0].routes[0].cluster",
    "10:11 clusters[1].name",
    "11:16 clusters[1].lb_policy",
  ]);
  // A cluster whose name is not text, or clusters under a misspelt key, could be the one a
  // route means: "unknown cluster" would be a false alarm there.
  const nameless = MINIMAL.replace("- cluster: demo", "- cluster: dmeo")
    .replace("- name: demo", "- name: [demo]");
  assert.deepEqual(where(issuesOf(nameless)), ["7:11 clusters[0].name"]);
  const misspelt = MINIMAL.replace("clusters:", "cluster:");
  assert.deepEqual(where(issuesOf(misspelt)), ["6:1 cluster"]);
});

Deno.test("parseConfig refuses an endpoint address listed twice in one cluster", () => {
  const text = MINIMAL + '      - address: "[::1]:10002"\n      - address: "[::1]:10001"\n';
  const issues = issuesOf(text);
  assert.deepEqual(where(issues), ["11:18 clusters[0].endpoints[2].address"]);
  assert.equal(
    issues[0].message,
    'endpoint address "[::1]:10001" is already listed by clusters[0].endpoints[0]',
  );
  assert.match(issues[0].fix ?? "", /raise its weight/);
  // The same address in two clusters is fine.
  const apart = MINIMAL + '  - name: other\n    endpoints: [{ address: "[::1]:10001" }]\n';
  assert.equal(parseConfig(apart, "t").clusters.length, 2);
});

Deno.test("parseConfig lets an auto listener have both routes and tcp", () => {
  const text = MINIMAL.replace(
    "    routes:",
    "    protocol: auto\n    tcp: { cluster: demo }\n    routes:",
  );
  const config = parseConfig(text, "t");
  assert.equal(config.listeners[0].tcp?.cluster, "demo");
});

Deno.test("parseConfig refuses listeners whose addresses would fight over a port", () => {
  const listeners = (a: string, b: string) =>
    `listeners:
  - { name: a, address: "${a}", routes: [{ cluster: c }] }
  - { name: b, address: "${b}", routes: [{ cluster: c }] }
clusters: [{ name: c }]
`;
  const clash = (a: string, b: string) => {
    try {
      parseConfig(listeners(a, b), "t");
      return false;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      assert.equal(err.issues[0].path, "listeners[1].address");
      return true;
    }
  };
  assert.equal(clash("127.0.0.1:80", "127.0.0.1:80"), true);
  assert.equal(clash("LOCALHOST:80", "localhost:80"), true);
  assert.equal(clash("0.0.0.0:80", "10.0.0.1:80"), true);
  assert.equal(clash("10.0.0.1:80", "0.0.0.0:80"), true);
  assert.equal(clash("[::]:80", "127.0.0.1:80"), true);
  assert.equal(clash("127.0.0.1:80", "127.0.0.1:81"), false);
  assert.equal(clash("127.0.0.1:80", "127.0.0.2:80"), false);
  assert.equal(clash("0.0.0.0:80", "[::1]:80"), false);
});

Deno.test("parseConfig treats a file of only comments or an empty document as empty", () => {
  for (const text of ["", "\n\n", "# just a comment\n", "---\n", "~\n"]) {
    const issues = issuesOf(text);
    assert.equal(issues.length, 1, JSON.stringify(text));
    assert.deepEqual([issues[0].line, issues[0].column], [1, 1]);
    assert.equal(issues[0].message, "the file is empty — a config needs at least a listeners list");
  }
});

Deno.test("parseConfig refuses aliases that expand without bound", () => {
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 8; i++) {
    const prev = String.fromCharCode(96 + i);
    const next = String.fromCharCode(97 + i);
    bomb.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(", ")}]`);
  }
  const [issue] = issuesOf(bomb.join("\n") + "\n");
  assert.match(issue.message, /^invalid YAML: /);
});

Deno.test("parseConfig throws only ConfigError, with 1-based positions, for any text", () => {
  const check = (text: string) => {
    for (const issue of issuesOrNone(text)) {
      assert.ok(issue.line >= 1 && issue.column >= 1, JSON.stringify(issue));
      assert.ok(issue.message.length > 0);
    }
  };
  fc.assert(fc.property(fc.string({ unit: "binary" }), check), { numRuns: 300 });
  // JSON is YAML: structured documents reach the schema and the reference checks.
  fc.assert(fc.property(fc.jsonValue(), (v) => check(JSON.stringify(v, null, 1))), {
    numRuns: 300,
  });
  const mutated = fc.tuple(fc.nat(MINIMAL.length), fc.string({ maxLength: 4 }));
  fc.assert(
    fc.property(mutated, ([i, s]) => check(MINIMAL.slice(0, i) + s + MINIMAL.slice(i + 1))),
    { numRuns: 300 },
  );
});

function issuesOrNone(text: string): ConfigIssue[] {
  try {
    parseConfig(text, "t");
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}

Deno.test("parseConfig needs no env access and leaves process.env as it was", () => {
  // yaml's Node build reads LOG_TOKENS while parsing; see src/config/_parse_yaml.ts.
  const env = process.env;
  parseConfig(MINIMAL, "t");
  assert.equal(process.env, env);
});

Deno.test("parseConfig: YAML merge keys apply, and top-level x- keys hold anchors", () => {
  const config = parseConfig(
    `x-retry: &retry
  retry_on: [connect-failure, reset]
  num_retries: 2
listeners:
  - name: web
    address: 127.0.0.1:18000
    routes:
      - cluster: app
        retry:
          <<: *retry
          per_try_timeout: 1s
      - cluster: app
        match: { prefix: /b }
        retry: { <<: *retry, num_retries: 3 }
clusters:
  - name: app
    endpoints: [{ address: 127.0.0.1:18080 }]
`,
    "merge.yaml",
  );
  const [a, b] = config.listeners[0].routes.map((r) => r.retry!);
  assert.deepEqual([a.retry_on, a.num_retries, a.per_try_timeout], [
    ["connect-failure", "reset"],
    2,
    1000,
  ]);
  assert.deepEqual([b.retry_on, b.num_retries], [["connect-failure", "reset"], 3]);
  assert.equal("x-retry" in config, false);
});

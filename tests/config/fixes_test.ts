// Every problem skiff reports in a config file comes with a `fix:` line: each kind of YAML
// error, each generic schema issue (types, ranges, enums, formats, unions) and each message
// written into the schema.
import assert from "node:assert/strict";
import { z } from "zod";
import { ConfigError, type ConfigIssue, parseConfig } from "../../src/config/mod.ts";
import { ConfigSchema } from "../../src/config/schema.ts";

const BAD = new URL("./testdata/bad/", import.meta.url);

const LISTENER = `listeners:
  - name: web
    address: 127.0.0.1:18000
    routes:
      - cluster: app
`;

/** A config with `route` as the web listener's route's extra keys and `rest` after it. */
const withRoute = (route: string, rest = "") =>
  LISTENER + route.split("\n").map((l) => `        ${l}\n`).join("") +
  "clusters:\n  - name: app\n" + rest;

/** Bad configs by the mistake they make, and what the fix must say where it matters. */
const CASES: [string, string, RegExp?][] = [
  ["a number as a word", withRoute("retry: { num_retries: two }"), /in digits/],
  ["a number too large", withRoute("retry: { num_retries: 20 }"), /10 or less/],
  ["an enum misspelt", withRoute("", "    lb_policy: round_robbin\n"), /^write "round_robin"$/],
  ["an enum far off", withRoute("", "    lb_policy: random\n"), /round_robin, least_request/],
  ["a prefix without /", withRoute("match: { prefix: api }"), /^write "\/api"$/],
  ["a path without /", withRoute("match: { path: api }"), /^write "\/api"$/],
  ["a route's cluster as a list", LISTENER.replace("cluster: app", "cluster: [app]")],
  ["a mapping where text belongs", withRoute("hash_header: { x: 1 }"), /single value/],
  ["text where a list belongs", withRoute("request_headers_to_remove: x-a"), /list/],
  ["text where a mapping belongs", withRoute("", "    endpoints: [{ address: a:1, labels: x }]\n")],
  ["a word for a boolean", withRoute("match: { headers: [{ name: x, present: yes }] }"), /true/],
  ["an empty list", withRoute("match: { methods: [] }"), /at least 1 item/],
  ["an empty text", withRoute("", "identity: { dir: '' }\n")],
  ["a text too long", withRoute("", `gossip: { cluster: ${"x".repeat(70)} }\n`), /shorten/],
  [
    "an empty label name",
    LISTENER.replace(
      "cluster: app",
      'weighted_clusters: [{ cluster: app, weight: 1, subset: { "": v } }]',
    ) +
    "clusters:\n  - name: app\n",
  ],
  ["a union of neither form", withRoute("", "    health_check: { expected_statuses: [true] }\n")],
  ["a trust domain", withRoute("", "    tls: { expect: { trust_domain: Example.org } }\n")],
  ["a SPIFFE matcher", withRoute("", "    tls: { expect: { domain: x } }\n")],
  ["an authz path", withRoute("authz: { rules: [{ paths: [{ exact: api }] }] }")],
  ["a duration above the maximum", withRoute("timeout: 3000000000ms"), /2147483647ms or less/],
  ["a duration as a number", withRoute("timeout: 5")],
  ["a zero interval", withRoute("rate_limit: { max_tokens: 1, fill_interval: 0s }")],
  ["an address without port", LISTENER.replace("127.0.0.1:18000", "localhost")],
  ["the top level as a list", "- listeners\n"],
  ["a missing key", "listeners: [{ address: 127.0.0.1:1 }]\n"],
  ["an unknown key", withRoute("retires: 2")],
  ["workers as a word", withRoute("", "workers: many\n")],
  ["a header match of nothing", withRoute("match: { headers: [{ name: x }] }")],
  ["a cluster defined twice", withRoute("", "  - name: app\n")],
  ["an unknown cluster", LISTENER.replace("cluster: app", "cluster: nope")],
  [
    "an endpoint listed twice",
    withRoute("", "    endpoints: [{ address: a:1 }, { address: a:1 }]\n"),
  ],
  [
    "a flow list not indented",
    "listeners:\n  - name: web\n    routes: [{ cluster: app }\nclusters: []\n",
    /indent/,
  ],
  ["a flow list not closed", "listeners: [{ name: web }\n", /close the list/],
  [
    "a flow mapping not indented",
    "listeners:\n  - { name: web\nclusters: []\n",
    /close the mapping/,
  ],
  ["a quote not closed", "listeners:\n  - name: 'web\n", /end the quoted text with '/],
  ["mapping keys not aligned", "listeners:\n  - name: web\n     address: x\n"],
  ["a list item without -", "listeners:\n  - name: web\n  name: x\n"],
  ["a key without a value", "listeners:\n  - name: web\n  oops\n"],
  ["a missing comma", "listeners: [{ name: a } { name: b }]\n"],
  ["a tab as indent", "listeners:\n\t- name: web\n", /spaces/],
  ["a stray token", "listeners: ]\n"],
  ["an unknown tag", "listeners: !ip [1]\n", /tag/],
  ["an alias without anchor", "listeners: *nope\n", /&nope/],
  ["two documents", "listeners: []\n---\nlisteners: []\n"],
  ["a bad escape", 'listeners: ["\\q"]\n'],
];

function issuesOf(text: string, file: string): ConfigIssue[] {
  try {
    parseConfig(text, file);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  assert.fail(`${file} was accepted, but it is meant to be bad`);
}

function assertFixes(issues: ConfigIssue[], want?: RegExp): void {
  assert.ok(issues.length > 0);
  for (const issue of issues) {
    const at = `${issue.file}:${issue.line}:${issue.column}: ${issue.path}: ${issue.message}`;
    assert.ok(issue.fix && issue.fix.trim() !== "", `no fix for ${at}`);
  }
  if (want) {
    assert.ok(issues.some((i) => want.test(i.fix ?? "")), `no fix matches ${want}`);
  }
}

Deno.test("every problem in the bad test files and the bad configs above comes with a fix", () => {
  for (const entry of Deno.readDirSync(BAD)) {
    if (!entry.name.endsWith(".yaml")) continue;
    const text = Deno.readTextFileSync(new URL(entry.name, BAD));
    assertFixes(issuesOf(text, entry.name));
  }
  for (const [name, text, want] of CASES) assertFixes(issuesOf(text, name), want);
});

Deno.test("a did-you-mean stays in the message, and the fix names the suggestion", () => {
  const [issue] = issuesOf(withRoute("", "    lb_policy: round_robbin\n"), "t");
  assert.match(issue.message, /got "round_robbin" — did you mean "round_robin"\?$/);
  assert.equal(issue.fix, 'write "round_robin"');
});

type Schema = z.core.$ZodType;
type ErrorFn = (iss: unknown) => unknown;

/** Every schema reachable from `root`: object fields, list items, union options, wrappers. */
function reachable(root: Schema): Schema[] {
  const seen = new Set<Schema>();
  const isSchema = (v: unknown): v is Schema =>
    typeof v === "object" && v !== null && "_zod" in v &&
    typeof (v as Schema)._zod.def?.type === "string";
  const visit = (s: Schema) => {
    if (seen.has(s)) return;
    seen.add(s);
    const def = s._zod.def as unknown as Record<string, unknown>;
    const shape = s instanceof z.ZodObject ? Object.values(s.shape) : [];
    for (const v of [...Object.values(def), ...shape]) {
      for (const item of Array.isArray(v) ? v : [v]) if (isSchema(item)) visit(item);
    }
  };
  visit(root);
  return [...seen];
}

Deno.test("every message written into the schema carries a fix after its last ' — '", () => {
  const samples = ["bogus", 42, 1.5, true, null, ["x"], { x: 1 }];
  let checked = 0;
  for (const schema of reachable(ConfigSchema)) {
    const errors: { fn: ErrorFn | undefined; custom: boolean }[] = [
      { fn: schema._zod.def.error as ErrorFn | undefined, custom: false },
      ...(schema._zod.def.checks ?? []).map((c) => ({
        fn: c._zod.def.error as ErrorFn | undefined,
        custom: c._zod.def.check === "custom",
      })),
    ];
    for (const { fn, custom } of errors) {
      // A refinement without a message would be reported as zod's bare "Invalid input".
      assert.ok(fn !== undefined || !custom, "a refinement without an error message");
      if (fn === undefined) continue;
      for (const input of samples) {
        const message = fn({ code: "custom", input, path: ["key"], message: "" });
        if (message === undefined) continue; // left to the loader's error map
        assert.equal(typeof message, "string");
        checked++;
        const tail = String(message).split(" — ").slice(1).at(-1);
        assert.ok(tail && !tail.startsWith("did you mean"), `no fix in: ${message}`);
      }
    }
  }
  assert.ok(checked > 30, `only ${checked} messages were found; is the schema walk broken?`);
});

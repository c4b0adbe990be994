import assert from "node:assert/strict";
import type { MemberInfo } from "../../src/discovery/gossip/mod.ts";
import {
  memberInfo,
  type MembersView,
  memberView,
  parseMembersView,
} from "../../src/discovery/member_view.ts";

const b: MemberInfo = {
  name: "b",
  address: "10.0.0.2:7946",
  incarnation: 4,
  state: "suspect",
  spiffeId: "spiffe://t/b",
  services: [{ name: "web", port: 8080, protocol: "http", labels: { zone: "z1" } }],
};

Deno.test("memberInfo reads back what memberView shows", () => {
  assert.deepEqual(memberInfo(memberView(b)), b);
});

Deno.test("parseMembersView reads a /members answer and keeps only its fields", () => {
  const view: MembersView = { self: "b", cluster: "prod", members: [memberView(b)] };
  const body = JSON.parse(JSON.stringify({ ...view, extra: 1 }));
  assert.deepEqual(parseMembersView(body), view);
});

/** A `/members` body as plain JSON, loosely typed so that tests can spoil it. */
interface Body {
  self?: unknown;
  members: {
    state: unknown;
    incarnation: unknown;
    services: { port: unknown; labels: Record<string, unknown> }[];
  }[];
}

Deno.test("parseMembersView names the first field that is wrong", () => {
  const good = (): Body =>
    JSON.parse(JSON.stringify({ self: "b", cluster: "c", members: [memberView(b)] }));
  const cases: [string, (v: Body) => unknown, RegExp][] = [
    ["not an object", () => [], /the body is not an object/],
    ["no self", (v) => ({ ...v, self: undefined }), /the body\.self is not a string, got nothing/],
    ["members not a list", (v) => ({ ...v, members: {} }), /the body\.members is not a list/],
    ["bad state", (v) => (v.members[0].state = "gone", v), /members\[0\]\.state is "gone"/],
    [
      "negative incarnation",
      (v) => (v.members[0].incarnation = -1, v),
      /members\[0\]\.incarnation is not a whole number from 0, got -1/,
    ],
    ["port as text", (v) => (v.members[0].services[0].port = "80", v), /services\[0\]\.port/],
    [
      "label not text",
      (v) => (v.members[0].services[0].labels.zone = 1, v),
      /services\[0\]\.labels\.zone is not a string, got 1/,
    ],
  ];
  for (const [what, spoil, message] of cases) {
    assert.throws(() => parseMembersView(spoil(good())), { name: "TypeError", message }, what);
  }
});

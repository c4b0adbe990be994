import type { Timer } from "../../core/mod.ts";
import type { Dissemination } from "./_dissemination.ts";
import type { NodeContext } from "./_node_context.ts";
import type { GossipMessage } from "./messages.ts";

/** A probe waiting for its ack. */
interface Probe {
  acked: boolean;
  nacks: number;
  /** With `failOnNacks`: fails the probe now when every helper has nacked. */
  nacked?: () => void;
  /** For a relayed probe: the asker's address, and its sequence number. */
  relay?: { to: string; seq: number };
  timer?: Timer;
}

/** What the failure detector asks of the rest of the node. */
export interface FailureHooks {
  /** Nothing acked a probe of `name` in time. */
  failed(name: string): void;
  /** A probe of this node carried a suspicion of it at `incarnation` (buddy refutation). */
  suspected(incarnation: number): void;
}

type Ping = Extract<GossipMessage, { type: "ping" }>;
type PingReq = Extract<GossipMessage, { type: "ping_req" }>;

/**
 * SWIM's failure detector: one probe per period in shuffled round-robin order, indirect
 * probes through k members when the direct one times out, relaying others' indirect probes
 * (with Lifeguard's nacks), and answering pings. Verify probes check a fresh suspect at once.
 */
export class FailureDetector {
  readonly #ctx: NodeContext;
  readonly #out: Dissemination;
  readonly #hooks: FailureHooks;
  readonly #probes = new Map<number, Probe>();
  #seq = 0;

  constructor(ctx: NodeContext, out: Dissemination, hooks: FailureHooks) {
    this.#ctx = ctx;
    this.#out = out;
    this.#hooks = hooks;
  }

  /** One protocol period: probes the next member in the order. */
  probeRound(): void {
    const target = this.#ctx.order.next();
    if (target === undefined) return;
    this.probe(target, false);
  }

  /**
   * Probes `target`: a ping, then (after the probe timeout) indirect pings through k members,
   * and `failed` when nothing acked by the end of the period (or, with `failOnNacks`, once every
   * helper nacked). A `verify` probe (of a fresh suspect) sends the ping and the indirect pings
   * at once and decides after the probe timeout.
   */
  probe(target: string, verify: boolean): void {
    const ctx = this.#ctx;
    const m = ctx.members.get(target)!;
    const cfg = ctx.config;
    const seq = ++this.#seq;
    const probe: Probe = { acked: false, nacks: 0 };
    this.#probes.set(seq, probe);
    const suspicion = cfg.buddy && m.info.state === "suspect" ? m.info.incarnation : undefined;
    this.#out.send(m.info.address, {
      type: "ping",
      seq,
      from: ctx.self.name,
      target,
      suspicion,
    });
    const interval = ctx.scaled(cfg.probeIntervalMs);
    const timeout = Math.min(ctx.scaled(cfg.probeTimeoutMs), interval);
    let expectedNacks = 0;
    const indirect = () => {
      const helpers = ctx.order.pick(cfg.indirectChecks, new Set([target]));
      expectedNacks = cfg.nacks ? helpers.length : 0;
      for (const h of helpers) {
        this.#out.send(ctx.members.get(h)!.info.address, {
          type: "ping_req",
          seq,
          from: ctx.self.name,
          target,
          targetAddress: m.info.address,
          nack: cfg.nacks,
        });
      }
    };
    const { incarnation, address } = m.info;
    const fail = () => {
      this.#probes.delete(seq);
      if (probe.acked) return;
      // The member refuted or rejoined (maybe at a new address) while we probed: the probe
      // spoke to its past, so it proves nothing about it now.
      const now = ctx.members.get(target)?.info;
      if (now?.incarnation !== incarnation || now.address !== address) return;
      // Lifeguard: missing nacks point at our own trouble, so we slow down, by one per nack
      // missing (one when none were asked for); every helper's nack clears us. Not after a
      // verify probe: it decides before the nacks are due.
      const missing = expectedNacks > 0 ? expectedNacks - probe.nacks : 1;
      if (!verify && missing > 0) ctx.awareness?.apply(missing);
      this.#hooks.failed(target);
    };
    if (verify) {
      indirect();
      probe.timer = ctx.after(timeout, fail);
      return;
    }
    probe.timer = ctx.after(timeout, () => {
      if (probe.acked) return;
      indirect();
      probe.timer = ctx.after(interval - timeout, fail);
      if (cfg.failOnNacks && expectedNacks > 0) {
        probe.nacked = () => {
          if (probe.nacks < expectedNacks) return;
          ctx.cancel(probe.timer);
          fail();
        };
      }
    });
  }

  /** A ping for this node: refute a suspicion it carries, and ack. */
  onPing(from: string, msg: Ping): void {
    if (msg.target !== this.#ctx.self.name) return; // meant for a previous owner of the address
    if (msg.suspicion !== undefined) this.#hooks.suspected(msg.suspicion);
    this.#out.send(from, { type: "ack", seq: msg.seq, from: this.#ctx.self.name });
  }

  /** An ack for one of our probes (or one we relay). */
  onAck(seq: number): void {
    const probe = this.#probes.get(seq);
    if (!probe || probe.acked) return;
    probe.acked = true;
    if (probe.relay) {
      this.#out.send(probe.relay.to, {
        type: "ack",
        seq: probe.relay.seq,
        from: this.#ctx.self.name,
      });
    } else {
      this.#ctx.awareness?.apply(-1);
    }
    this.#ctx.cancel(probe.timer);
    this.#probes.delete(seq);
  }

  /** A relay could not reach the target of one of our indirect probes. */
  onNack(seq: number): void {
    const probe = this.#probes.get(seq);
    if (!probe) return;
    probe.nacks++;
    probe.nacked?.();
  }

  /** Probes `msg.target` for `asker`, answering with an ack, or a nack when none came. */
  relay(asker: string, msg: PingReq): void {
    const ctx = this.#ctx;
    const seq = ++this.#seq;
    const probe: Probe = {
      acked: false,
      nacks: 0,
      relay: { to: asker, seq: msg.seq },
    };
    this.#probes.set(seq, probe);
    this.#out.send(msg.targetAddress, {
      type: "ping",
      seq,
      from: ctx.self.name,
      target: msg.target,
    });
    probe.timer = ctx.after(ctx.scaled(ctx.config.probeTimeoutMs), () => {
      this.#probes.delete(seq);
      if (!probe.acked && msg.nack) {
        this.#out.send(asker, { type: "nack", seq: msg.seq, from: ctx.self.name });
      }
    });
  }

  /** Forgets every probe in flight (their timers stop with the node). */
  stop(): void {
    this.#probes.clear();
  }
}

import type { MembershipUpdates, UpdateMessage } from "./_membership_updates.ts";
import type { NodeContext } from "./_node_context.ts";
import { HEARSAY } from "./_suspicion_tracker.ts";
import type { MemberInfo } from "./messages.ts";
import type { MessageStream } from "../../net/transport.ts";

const STREAM_TIMEOUT_MS = 5000;

/**
 * Push-pull: the full member list exchanged with one peer over a reliable stream, at join
 * and periodically, to repair what gossip missed and to heal partitions.
 */
export class PushPull {
  readonly #ctx: NodeContext;
  readonly #updates: MembershipUpdates;

  constructor(ctx: NodeContext, updates: MembershipUpdates) {
    this.#ctx = ctx;
    this.#updates = updates;
  }

  /**
   * One push-pull with a random live member, and one with a random member held dead (as
   * serf's reconnect does): after a partition heals, that is how the halves find each other.
   */
  async syncRandom(): Promise<void> {
    const ctx = this.#ctx;
    const [to] = ctx.order.pick(1, new Set());
    const dead = [...ctx.members.values()].filter((m) => m.info.state === "dead");
    const lost = dead.length > 0 ? dead[Math.floor(ctx.deps.rng() * dead.length)] : undefined;
    await Promise.all([
      to ? this.exchange(ctx.members.get(to)!.info.address) : undefined,
      lost ? this.exchange(lost.info.address) : undefined,
    ]);
  }

  /** Sends our full state to `address` and merges theirs; false when it failed. */
  async exchange(address: string): Promise<boolean> {
    const { transport, codec, log } = this.#ctx.deps;
    let stream: MessageStream | undefined;
    try {
      stream = await transport.connect(address, STREAM_TIMEOUT_MS);
      await stream.send(codec.encodeState(this.#state()));
      const reply = await stream.receive(STREAM_TIMEOUT_MS);
      const state = reply && this.#decode(reply);
      if (state) this.#merge(state, address);
      // A reply we could not read (another cluster, another key) taught us nothing.
      return Boolean(state);
    } catch (err) {
      log?.debug("push-pull failed", { address, err });
      return false;
    } finally {
      stream?.close();
    }
  }

  /** Answers a peer's push-pull on `stream`. */
  async answer(from: string, stream: MessageStream): Promise<void> {
    try {
      const bytes = await stream.receive(STREAM_TIMEOUT_MS);
      // Only a peer whose state we can read (same cluster, same keys) gets ours.
      const theirs = bytes && this.#decode(bytes);
      if (!theirs) return;
      await stream.send(this.#ctx.deps.codec.encodeState(this.#state()));
      this.#merge(theirs, from);
    } catch (err) {
      this.#ctx.deps.log?.debug("push-pull from a peer failed", { err });
    } finally {
      stream.close();
    }
  }

  #state(): MemberInfo[] {
    return [{ ...this.#ctx.self }, ...[...this.#ctx.members.values()].map((m) => m.info)];
  }

  /** A peer's full state, or undefined (dropped and counted) when it does not decode. */
  #decode(bytes: Uint8Array): MemberInfo[] | undefined {
    const state = this.#ctx.deps.codec.decodeState(bytes);
    if (Array.isArray(state)) return state;
    this.#ctx.drop(state.drop);
    return undefined;
  }

  /**
   * @param state the peer's full state, the peer itself first
   * @param address where the state came from (the peer's transport address)
   */
  #merge(state: readonly MemberInfo[], address: string): void {
    const ctx = this.#ctx;
    const independent = ctx.config.independentConfirmations;
    // Messages name their sender by member name, as gossip does; packets come from addresses.
    const peer = state[0]?.name ?? address;
    for (const info of state) {
      // A peer's "dead" is only a suspicion here (as memberlist does): the member gets its
      // chance to refute, and two healed halves do not kill each other off.
      const msg: UpdateMessage = info.state === "alive"
        ? { type: "alive", member: info }
        : info.state === "suspect" || info.state === "dead"
        ? {
          type: "suspect",
          name: info.name,
          incarnation: info.incarnation,
          from: independent ? HEARSAY : peer,
        }
        : { type: "leave", name: info.name, incarnation: info.incarnation };
      // Independent confirmations only: a suspicion we hold already is not confirmed by a
      // peer's full state (the peer may only have heard of it), but the peer's verdict on it
      // counts as the dead message we missed.
      if (
        independent && msg.type === "suspect" &&
        ctx.members.get(info.name)?.info.state === "suspect"
      ) {
        if (info.state === "dead") {
          this.#updates.update(
            { type: "dead", name: info.name, incarnation: info.incarnation, from: peer },
            address,
          );
        }
        continue;
      }
      // A member first heard of as suspect or dead in a full state is learned as it is.
      if (!ctx.members.has(info.name) && info.state !== "alive" && info.name !== ctx.self.name) {
        if (info.state === "suspect") {
          this.#updates.update({ type: "alive", member: { ...info, state: "alive" } }, address);
        } else continue;
      }
      this.#updates.update(msg, address);
    }
  }
}

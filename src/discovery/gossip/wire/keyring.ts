import { createHash, createSecretKey, type KeyObject } from "node:crypto";

/** One cluster key, held for AES-GCM, with the id packets name it by. */
export interface KeyringEntry {
  /** First 4 bytes of SHA-256 of the raw key, big-endian: names the key, reveals nothing. */
  readonly id: number;
  /** The key as node:crypto holds it (a copy: changing the caller's bytes changes nothing). */
  readonly key: KeyObject;
}

const KEY_LENGTHS = [16, 24, 32];

/**
 * The cluster keys a node holds for AES-GCM packet encryption: one primary key that encrypts
 * what the node sends, and any number of further keys it still accepts. Rotation, done on
 * every node: `add` the new key everywhere, then `use` it everywhere, then `remove` the old
 * one once every node sends with the new one. A packet names its key by id (see
 * {@linkcode KeyringEntry.id}), so decryption tries only the matching key.
 *
 * @example
 * ```ts
 * const ring = Keyring.create([crypto.getRandomValues(new Uint8Array(32))]);
 * ring.add(nextKey);    // accepted from now on
 * ring.use(nextKey);    // sent with from now on
 * ring.remove(oldKey);  // no longer accepted
 * ```
 */
export class Keyring {
  #entries: KeyringEntry[] = [];
  #primary: KeyringEntry | undefined;

  private constructor() {}

  /**
   * Creates a keyring; the first key is the primary.
   *
   * @param keys raw AES keys of 16, 24 or 32 bytes, at least one
   * @throws {RangeError} when no key is given or a key has another length
   */
  static create(keys: readonly Uint8Array[]): Keyring {
    if (keys.length === 0) {
      throw new RangeError("A keyring needs at least one key: pass the cluster's primary key");
    }
    const ring = new Keyring();
    for (const k of keys) ring.add(k);
    ring.use(keys[0]);
    return ring;
  }

  /**
   * Accepts packets encrypted with `key` from now on (no change when already held).
   *
   * @param key a raw AES key of 16, 24 or 32 bytes
   * @throws {RangeError} when the key has another length
   */
  add(key: Uint8Array): void {
    if (!KEY_LENGTHS.includes(key.length)) {
      throw new RangeError(
        `A cluster key must be 16, 24 or 32 bytes (AES-128/192/256), got ${key.length}; ` +
          "generate one with crypto.getRandomValues(new Uint8Array(32))",
      );
    }
    const id = keyId(key);
    if (this.#entries.some((e) => e.id === id)) return;
    this.#entries.push({ id, key: createSecretKey(new Uint8Array(key)) });
  }

  /**
   * Makes a held key the primary: packets are encrypted with it from now on.
   *
   * @throws {RangeError} when the key is not in the keyring (`add` it first)
   */
  use(key: Uint8Array): void {
    const id = keyId(key);
    const entry = this.#entries.find((e) => e.id === id);
    if (!entry) throw new RangeError("That key is not in the keyring: add it before using it");
    this.#primary = entry;
  }

  /**
   * Stops accepting packets encrypted with `key`.
   *
   * @returns whether the key was held
   * @throws {RangeError} when `key` is the primary key (`use` another key first)
   */
  remove(key: Uint8Array): boolean {
    const id = keyId(key);
    const i = this.#entries.findIndex((e) => e.id === id);
    if (i < 0) return false;
    if (this.#entries[i] === this.#primary) {
      throw new RangeError(
        "Cannot remove the primary key: make another key primary with use() first",
      );
    }
    this.#entries.splice(i, 1);
    return true;
  }

  /** The key packets are encrypted with. */
  get primary(): KeyringEntry {
    return this.#primary!;
  }

  /** The ids of every key accepted, primary first. */
  ids(): number[] {
    return [this.primary.id, ...this.#entries.filter((e) => e !== this.#primary).map((e) => e.id)];
  }

  /**
   * The accepted key with this id, if any.
   *
   * @param id a key id from a packet header
   */
  find(id: number): KeyringEntry | undefined {
    return this.#entries.find((e) => e.id === id);
  }
}

/**
 * The id of a raw key: the first 4 bytes of its SHA-256, big-endian.
 *
 * @param key a raw key
 * @returns an unsigned 32-bit integer
 */
export function keyId(key: Uint8Array): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0);
}

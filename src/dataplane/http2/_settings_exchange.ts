import { growSendWindow, INITIAL_WINDOW } from "./_flow_control.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  FrameType,
  H2ConnectionError,
  MAX_WINDOW,
  readU32,
  Setting,
  writeU32,
} from "./frame.ts";
import type { FrameWriter } from "./frame_writer.ts";
import type { H2Settings } from "./h2_settings.ts";
import type { H2Stream } from "./h2_stream.ts";
import type { HpackEncoder } from "./hpack_encoder.ts";

/** Streams a client may open before the server's SETTINGS arrive (RFC 9113 §6.5.2 advice). */
const ASSUMED_MAX_STREAMS = 100;
/** The largest frame payload we send, whatever larger size the peer allows. */
const MAX_SENT_FRAME = 64 * 1024;
/** The largest SETTINGS_MAX_FRAME_SIZE the protocol allows. */
const MAX_FRAME_SIZE_LIMIT = 16_777_215;

/**
 * Both directions of the SETTINGS exchange of one connection (RFC 9113 §6.5): encodes ours,
 * applies the peer's (and keeps what its connection needs of them).
 */
export class SettingsExchange {
  readonly #client: boolean;
  readonly #encoder: HpackEncoder;
  #seen = false;
  #maxFrame = DEFAULT_MAX_FRAME_SIZE;
  #initialWindow = INITIAL_WINDOW;
  #maxStreams: number;

  /**
   * @param role our side of the connection
   * @param encoder our HPACK encoder, whose table follows SETTINGS_HEADER_TABLE_SIZE
   */
  constructor(role: "server" | "client", encoder: HpackEncoder) {
    this.#client = role === "client";
    this.#encoder = encoder;
    this.#maxStreams = this.#client ? ASSUMED_MAX_STREAMS : Infinity;
  }

  /** The largest frame payload to send (the peer's SETTINGS_MAX_FRAME_SIZE, up to 64 KiB). */
  get peerMaxFrame(): number {
    return this.#maxFrame;
  }

  /** The send window of a new stream (the peer's SETTINGS_INITIAL_WINDOW_SIZE). */
  get peerInitialWindow(): number {
    return this.#initialWindow;
  }

  /**
   * Streams the peer lets us open at once: its SETTINGS_MAX_CONCURRENT_STREAMS, unlimited
   * when its SETTINGS left it out, and 100 for a client until they arrive.
   */
  get peerMaxStreams(): number {
    return this.#maxStreams;
  }

  /** Queues our SETTINGS frame, advertising `local` (and no server push). */
  static announce(w: FrameWriter, local: H2Settings): void {
    const [buf, at] = w.frameInPlace(FrameType.SETTINGS, 0, 0, 4 * 6);
    writeSetting(buf, at, Setting.MAX_CONCURRENT_STREAMS, local.maxConcurrentStreams);
    writeSetting(buf, at + 6, Setting.INITIAL_WINDOW_SIZE, local.initialWindowSize);
    writeSetting(buf, at + 12, Setting.MAX_HEADER_LIST_SIZE, local.maxHeaderListSize);
    writeSetting(buf, at + 18, Setting.ENABLE_PUSH, 0);
  }

  /**
   * Applies the payload `b[s, e)` of a SETTINGS frame from the peer (not an ACK). A new
   * initial window size moves the send window of every open stream by the difference
   * (§6.9.2) and wakes their writers when it grew.
   *
   * @throws {H2ConnectionError} on a malformed frame or an invalid value
   */
  apply(
    b: Uint8Array,
    s: number,
    e: number,
    streams: { values(): Iterable<H2Stream> },
  ): void {
    if ((e - s) % 6 !== 0) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "bad SETTINGS");
    if (!this.#seen) {
      this.#seen = true;
      this.#maxStreams = Infinity; // unless the frame says otherwise
    }
    for (let p = s; p < e; p += 6) {
      const key = (b[p] << 8) | b[p + 1];
      const value = readU32(b, p + 2);
      switch (key) {
        case Setting.HEADER_TABLE_SIZE:
          this.#encoder.setMaxTableSize(Math.min(value, 4096));
          break;
        case Setting.ENABLE_PUSH:
          if (value > 1 || (value === 1 && this.#client)) {
            throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "bad ENABLE_PUSH");
          }
          break;
        case Setting.MAX_CONCURRENT_STREAMS:
          this.#maxStreams = value;
          break;
        case Setting.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) {
            throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "window too large");
          }
          const delta = value - this.#initialWindow;
          this.#initialWindow = value;
          for (const st of streams.values()) {
            if (!growSendWindow(st, delta)) {
              throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "window overflow");
            }
            if (delta > 0) st.windowOpened();
          }
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_FRAME_SIZE_LIMIT) {
            throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "bad MAX_FRAME_SIZE");
          }
          this.#maxFrame = Math.min(value, MAX_SENT_FRAME);
          break;
        default:
          break; // MAX_HEADER_LIST_SIZE is advisory; unknown settings are ignored
      }
    }
  }
}

function writeSetting(buf: Uint8Array, at: number, id: number, value: number): void {
  buf[at] = id >> 8;
  buf[at + 1] = id & 0xff;
  writeU32(buf, at + 2, value);
}

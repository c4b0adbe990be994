/**
 * Leaf utilities with no dependencies: time, logging, ids, aborts, bytes.
 * @module
 */
export { type Clock, sleepOn, systemClock, type Timer } from "./clock.ts";
export { VirtualClock } from "./virtual_clock.ts";
export { type LogFields, Logger, type LogLevel, type LogSink, silentLogger } from "./logger.ts";
export { requestId } from "./ids.ts";
export { mathRng, type Rng, seededRng } from "./rng.ts";
export { throwIfAborted, TimeoutError } from "./abort.ts";
export { Cancel } from "./cancel.ts";
export { Drain } from "./drain.ts";
export { Serial } from "./serial.ts";
export { TimerWheel } from "./timer_wheel.ts";
export { concatBytes } from "./concat_bytes.ts";
export { ViewCache } from "./view_cache.ts";

/**
 * Runs async tasks one at a time, in the order they were given; a task that fails does not
 * stop the ones queued after it (its caller gets the rejection).
 *
 * @example
 * ```ts
 * const reloads = new Serial();
 * const outcome = await reloads.run(() => apply(config));
 * ```
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` once every task given before it has settled; resolves with its result. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => {});
    return run;
  }
}

/** What one reload attempt did. */
export interface ReloadOutcome {
  /** True when the new version is active. */
  ok: boolean;
  /** The active config version after the attempt (1 for the config skiff started with). */
  version: number;
  /** Why the version was refused (bind failure, shadow guard, a Worker that failed). */
  error?: string;
  /** Listeners by what happened to their sockets, and clusters by what happened to them. */
  changes?: {
    /**
     * `failed`: listeners of the new config that could not be bound after the outgoing ones
     * let go of their address (another process took it in between); they are not serving
     * (their names are also in `added` or `rebound`). Only without SO_REUSEPORT.
     */
    listeners: {
      added: string[];
      removed: string[];
      rebound: string[];
      kept: string[];
      failed: string[];
    };
    clusters: { added: string[]; removed: string[]; changed: string[]; kept: string[] };
  };
  /** Sections that changed but apply only after a (hot) restart: admin, gossip, identity, workers. */
  restartNeeded?: string[];
  /** The shadow check's report, when `reload.shadow` is on. */
  shadow?: unknown;
}

/** How a drain is asked for. */
export interface DrainOptions {
  /**
   * A hot-restarting successor takes over (`POST /drain?handover=1`): gossip stops without
   * announcing a leave, before the admin port is let go.
   */
  handover?: boolean;
}

/** What the admin API can ask of whoever runs skiff (main), besides reading it. */
export interface LifecycleHooks {
  /** Reads the config file again and applies it (`POST /reload`). */
  reload?: () => Promise<ReloadOutcome>;
  /**
   * Starts a graceful drain and exit (`POST /drain`) and returns at once; for a handover,
   * the promise it may return settles once the ports the successor binds before the admin
   * port (gossip) are free, and the admin server lets its own port go only then.
   */
  drain?: (reason: string, opts?: DrainOptions) => void | Promise<void>;
}

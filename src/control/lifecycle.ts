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
    listeners: { added: string[]; removed: string[]; rebound: string[]; kept: string[] };
    clusters: { added: string[]; removed: string[]; changed: string[]; kept: string[] };
  };
  /** Sections that changed but apply only after a (hot) restart: admin, gossip, identity, workers. */
  restartNeeded?: string[];
  /** The shadow check's report, when `reload.shadow` is on. */
  shadow?: unknown;
}

/** What the admin API can ask of whoever runs skiff (main), besides reading it. */
export interface LifecycleHooks {
  /** Reads the config file again and applies it (`POST /reload`). */
  reload?: () => Promise<ReloadOutcome>;
  /** Starts a graceful drain and exit (`POST /drain`); returns at once. */
  drain?: (reason: string) => void;
}

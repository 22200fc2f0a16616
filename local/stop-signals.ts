/**
 * How `npm start` reads stop signals: the first SIGINT/SIGTERM drains; only a deliberate second
 * request forces an immediate stop.
 *
 * One Ctrl-C in a terminal reaches the runner more than once: the terminal signals the whole
 * foreground process group (npm, any wrapper, the runner), and npm's run-script forwards the SIGINT
 * it received to its child as well (so do tsx's CLI, GNU `timeout`, process managers). Those echoes
 * arrive within milliseconds of the original. A signal therefore forces only when it arrives at least
 * `forceAfterMs` after the first one, i.e. after the "draining" acknowledgement was printed and a person
 * had time to read it: pressing Ctrl-C again a second later forces; an echo of the same press never does.
 */

/** What one received stop signal means. */
export type StopDecision = 'drain' | 'same-request' | 'force';

/** Minimum gap between the first stop signal and one that forces (echoes arrive within milliseconds). */
export const FORCE_AFTER_MS = 1000;

export class StopSignalPolicy {
  private firstAt: number | undefined;

  constructor(
    private readonly now: () => number = () => performance.now(),
    readonly forceAfterMs: number = FORCE_AFTER_MS,
  ) {}

  /** Classifies a stop signal received now. */
  decide(): StopDecision {
    const now = this.now();
    if (this.firstAt === undefined) {
      this.firstAt = now;
      return 'drain';
    }
    return now - this.firstAt >= this.forceAfterMs ? 'force' : 'same-request';
  }
}

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface StopSignalHandlers {
  /** The first stop request: drain. */
  drain(signal: NodeJS.Signals): void;
  /** A deliberate second request: stop at once. */
  force(signal: NodeJS.Signals): void;
}

/** Installs SIGINT/SIGTERM handlers applying the policy; returns a function removing them. */
export function onStopSignals(handlers: StopSignalHandlers, policy = new StopSignalPolicy()): () => void {
  const listener = (signal: NodeJS.Signals) => {
    const decision = policy.decide();
    if (decision === 'drain') handlers.drain(signal);
    else if (decision === 'force') handlers.force(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, listener);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, listener);
  };
}

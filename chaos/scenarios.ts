/**
 * The chaos matrix: each scenario runs the real local pipeline (chaos/pipeline-child.ts ->
 * startLocalPipeline, what `npm start` runs) with a SCHEDULED fault plan, then judges the run against
 * ground truth (`ops verify`), redrives what ended in on-failure and verifies again.
 */
import type { ScheduledFault } from './kinesis-fault-proxy';

export interface ScenarioContext {
  /** Milliseconds since the pipeline process reported it started. */
  readonly elapsedMs: () => number;
  /** PIDs of the pipeline process's worker (sandbox) processes, oldest first. */
  readonly workerPids: () => Promise<number[]>;
  readonly killPipeline: () => void;
  readonly setProxyFaults: (plan: readonly ScheduledFault[] | undefined) => void;
  readonly disk?: { fill(): Promise<void>; free(): Promise<void>; setReadOnly(ro: boolean): Promise<void> };
  readonly sleep: (ms: number) => Promise<void>;
  readonly note: (text: string) => void;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Kinesis behind the chaos fault proxy (the pipeline runs with --endpoint). */
  readonly proxy?: boolean;
  /** quarantine/, on-failure/ and checkpoints/ on a small tmpfs (skipped where it cannot be mounted). */
  readonly smallDisk?: boolean;
  readonly poison?: boolean;
  /** The pipeline process is SIGKILLed by the plan and started again on the same data folder. */
  readonly restart?: boolean;
  /** The fault plan, run while the pipeline produces. */
  run(ctx: ScenarioContext, durationMs: number): Promise<void>;
}

const KINESIS_FAULTS: readonly ScheduledFault[] = [
  { operation: 'GetRecords', every: 3, fault: 'throttle' },
  { operation: 'GetRecords', every: 7, fault: 'http500' },
  { operation: 'GetRecords', every: 11, fault: 'reset' },
  { operation: 'GetRecords', every: 4, fault: 'latency' },
  { operation: 'GetRecords', every: 17, fault: 'hang', limit: 1 },
  { operation: 'PutRecords', every: 3, fault: 'entryThrottle' },
  { operation: 'PutRecords', every: 5, fault: 'resetAfterForward' },
  { operation: 'PutRecords', every: 7, fault: 'http500' },
  { operation: 'PutRecords', every: 11, fault: 'reset' },
  { operation: 'PutRecords', every: 13, fault: 'throttle' },
  { operation: 'PutRecords', every: 4, fault: 'latency' },
];

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'baseline',
    description: 'no fault: the reference row',
    async run() {},
  },
  {
    name: 'worker-kill',
    description: 'SIGKILL a worker (sandbox) process every 1.5 s, round-robin, mid-batch or idle',
    async run(ctx, durationMs) {
      let n = 0;
      while (ctx.elapsedMs() < durationMs - 1500) {
        await ctx.sleep(1500);
        const pids = await ctx.workerPids();
        if (pids.length === 0) continue;
        const pid = pids[n++ % pids.length]!;
        try {
          process.kill(pid, 'SIGKILL');
          ctx.note(`SIGKILL worker ${pid}`);
        } catch {
          /* already gone */
        }
      }
    },
  },
  {
    name: 'runner-kill',
    description: 'SIGKILL the runner half-way, restart it on the same data folder with --persist-stream',
    restart: true,
    async run(ctx, durationMs) {
      await ctx.sleep(durationMs / 2);
      ctx.killPipeline();
      ctx.note('SIGKILL the pipeline process');
    },
  },
  {
    name: 'kinesis-faults',
    description: 'fault proxy: throttles (GetRecords, PutRecords entries and requests), HTTP 500, resets, ambiguous writes, latency, one request never answered',
    proxy: true,
    async run(ctx, durationMs) {
      await ctx.sleep(500);
      ctx.setProxyFaults(KINESIS_FAULTS);
      // On while producing and into the drain (the mappings read then too), off before the drain can end.
      await ctx.sleep(durationMs + 4000);
      ctx.setProxyFaults(undefined);
    },
  },
  {
    name: 'poison',
    description: 'order-review gets three poison records: one always throws, one crashes its worker, one hangs past the timeout',
    poison: true,
    async run() {},
  },
  {
    name: 'disk-full',
    description: 'quarantine/, on-failure/ and checkpoints/ full for 3 s, then read-only for 2 s',
    smallDisk: true,
    async run(ctx) {
      await ctx.sleep(2000);
      await ctx.disk!.fill();
      ctx.note('disk full');
      await ctx.sleep(3000);
      await ctx.disk!.free();
      await ctx.disk!.setReadOnly(true);
      ctx.note('disk read-only');
      await ctx.sleep(2000);
      await ctx.disk!.setReadOnly(false);
      ctx.note('disk writable again');
    },
  },
];

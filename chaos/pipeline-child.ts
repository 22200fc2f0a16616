/**
 * The pipeline process of one chaos scenario: `startLocalPipeline` (what `npm start` runs: the same
 * definition, workers and sinks), with the scenario's options as JSON in argv[2]. Stops by itself
 * after `durationMs` (drain included) or on SIGTERM, and prints one line `CHAOS_SUMMARY <json>` with
 * the run summary and how long the drain took. A chaos scenario may SIGKILL this process.
 */
import { readFile } from 'node:fs/promises';
import { pipeline as projectPipeline } from '../pipeline/pipeline';
import { startLocalPipeline } from '../local/pipeline-runner';
import { chaosDefinition } from './poison-definition';

export interface PipelineChildOptions {
  dataDir: string;
  endpoint?: string;
  persistStream?: boolean;
  rate: number;
  events?: number;
  seed: number;
  invalidFraction: number;
  durationMs: number;
  drainTimeoutMs: number;
  /** Run the reference consumers behind the poison wrapper (chaos/poison-consumer.ts). */
  poison?: boolean;
  /**
   * A restarted runner with the upstream off: before draining, wait until every mapping has read its
   * shards to the tip with nothing in flight (the drain itself only waits for this run's own records).
   */
  catchUp?: boolean;
}

const options = JSON.parse(process.argv[2] ?? '{}') as PipelineChildOptions;
const pipeline = await startLocalPipeline({
  definition: options.poison ? chaosDefinition(projectPipeline) : projectPipeline,
  dataDir: options.dataDir,
  ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
  ...(options.persistStream ? { persistStream: true } : {}),
  rate: options.rate,
  ...(options.events !== undefined ? { events: options.events } : {}),
  seed: options.seed,
  invalidFraction: options.invalidFraction,
  asyncRetryDelaysMs: [200, 400],
  // Poison records exhaust their retries: a shorter backoff (AWS publishes none) keeps the scenario short.
  ...(options.poison ? { esmTiming: { retryBaseDelayMs: 200, retryMaxDelayMs: 1000 } } : {}),
});
process.stdout.write(`CHAOS_STARTED ${JSON.stringify({ pid: process.pid, kinesis: pipeline.kinesisEndpoint })}\n`);
await new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, options.durationMs);
  process.once('SIGTERM', () => {
    clearTimeout(timer);
    resolve();
  });
});
if (options.catchUp) {
  // Caught up: every mapping at the tip (MillisBehindLatest 0), nothing buffered or in flight, twice 1 s apart.
  await new Promise((r) => setTimeout(r, 2000));
  let calm = 0;
  const deadline = performance.now() + options.drainTimeoutMs;
  while (calm < 2 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    // runner.json (rewritten every second) carries each mapping's records read but not yet processed.
    const state = JSON.parse(await readFile(pipeline.dataDir.runnerFile, 'utf8')) as { consumers: Record<string, { stats?: { mapping?: { recordsPending?: number; millisBehindLatest?: number; inFlightBatches?: number } } }> };
    const idle = Object.values(state.consumers).every((c) => {
      const m = c.stats?.mapping;
      return m !== undefined && m.recordsPending === 0 && m.millisBehindLatest === 0 && m.inFlightBatches === 0;
    });
    calm = idle ? calm + 1 : 0;
  }
}
const drainStarted = performance.now();
const summary = await pipeline.stop({ drainTimeoutMs: options.drainTimeoutMs });
const drainMs = Math.round(performance.now() - drainStarted);
process.stdout.write(`CHAOS_SUMMARY ${JSON.stringify({ summary, drainMs })}\n`);
process.exit(0);

/**
 * The pipeline process of one chaos scenario: `startLocalPipeline` (what `npm start` runs: the same
 * definition, workers and sinks), with the scenario's options as JSON in argv[2]. Stops by itself
 * after `durationMs` (drain included) or on SIGTERM, and prints one line `CHAOS_SUMMARY <json>` with
 * the run summary and how long the drain took. A chaos scenario may SIGKILL this process; restarted on
 * the same data folder, its drain also covers what the killed process left unprocessed (the runner's
 * own drain waits for the stream's tip: local/stream-backlog.ts).
 */
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
  // review-intake claims each request with a lease of its remaining time (10 s timeout) + 5 s: a retry
  // of a killed invocation must come after that lease, as Lambda's (a minute later) does, or it finds
  // the request "in progress" and fails. Shorter than Lambda's delays, and waited out at stop.
  asyncRetryDelaysMs: [16_000, 16_000],
  waitForAsyncRetriesAtStop: true,
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
const drainStarted = performance.now();
const summary = await pipeline.stop({ drainTimeoutMs: options.drainTimeoutMs });
const drainMs = Math.round(performance.now() - drainStarted);
process.stdout.write(`CHAOS_SUMMARY ${JSON.stringify({ summary, drainMs })}\n`);
process.exit(0);

/**
 * The local data folder (default `.data/`): every durable output of the local pipeline, so nothing
 * disappears when the runner stops and the ops CLI can read it afterwards.
 *
 *   runner.json                  the running (or last) runner: endpoints, streams, consumers, stats
 *   quarantine/<consumer>.ndjson written by the consumers (env LOCAL_DATA_DIR)
 *   metrics/<namespace>.ndjson   business metrics, written by order-metrics (env LOCAL_DATA_DIR)
 *   on-failure/<name>.ndjson     discarded Kinesis batches (event source mapping) and asynchronous
 *                                invocations that exhausted their retries (AWS invocation records)
 *   invocations/<function>.ndjson requests a downstream function received (review-intake writes them)
 *   invoke-requests/<fn>.ndjson  every Invoke request the local Lambda endpoint accepted (before its 202/200)
 *   logs/<function>.log          the function's log lines (what CloudWatch Logs would hold)
 *   kinesalite/                  the embedded stream's storage, with --persist-stream
 *   .build/                      esbuild bundles the sandboxes run (rebuilt when a source changed)
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export class DataDir {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get runnerFile(): string {
    return join(this.root, 'runner.json');
  }

  quarantineFile(consumer: string): string {
    return join(this.root, 'quarantine', `${consumer}.ndjson`);
  }

  /** `Orders/Business` -> metrics/Orders/Business.ndjson (as order-metrics' file publisher writes it). */
  metricsFile(namespace: string): string {
    return join(this.root, 'metrics', `${namespace}.ndjson`);
  }

  get metricsDir(): string {
    return join(this.root, 'metrics');
  }

  onFailureFile(name: string): string {
    return join(this.root, 'on-failure', `${name}.ndjson`);
  }

  invocationsFile(fn: string): string {
    return join(this.root, 'invocations', `${fn}.ndjson`);
  }

  invokeRequestsFile(fn: string): string {
    return join(this.root, 'invoke-requests', `${fn}.ndjson`);
  }

  logFile(fn: string): string {
    return join(this.root, 'logs', `${fn}.log`);
  }

  /** esbuild bundles of the functions (see lambda/bundle.ts). */
  get buildDir(): string {
    return join(this.root, '.build');
  }

  get kinesaliteDir(): string {
    return join(this.root, 'kinesalite');
  }

  /** dynalite's storage of the idempotency tables (kept only when the stream outlives the runner). */
  get dynamodbDir(): string {
    return join(this.root, 'dynamodb');
  }

  /** Event source mapping checkpoints (`<pipeline>/<consumer>.<stream>.json`) when the stream outlives the runner. */
  get checkpointsDir(): string {
    return join(this.root, 'checkpoints');
  }

  async ensure(): Promise<void> {
    for (const sub of ['quarantine', 'metrics', 'on-failure', 'invocations', 'invoke-requests', 'logs']) {
      await mkdir(join(this.root, sub), { recursive: true });
    }
  }
}

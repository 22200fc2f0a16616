/**
 * One isolate of the consumer benchmark: hosts the contenders named in workerData and runs one batch
 * per message, timing only `run` (bench/consumer.bench.ts explains the method).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { KinesisStreamEvent } from 'aws-lambda';
import { createContenders } from './consumer-contenders';

export interface RunRequest {
  readonly name: string;
  readonly batch: KinesisStreamEvent;
  /** Forced GC before the run (BENCH_GC_BETWEEN=1). */
  readonly gcFirst: boolean;
  /** Heap run: forced GC before and after, heap figures in the result. */
  readonly heap: boolean;
}

export interface RunResult {
  readonly wall: number;
  /** Process CPU (user + system, all threads, GC helpers included) during the run, ms. */
  readonly cpu: number;
  /** Heap run: growth of this isolate's used heap during the run, bytes (= bytes allocated when gcs is 0). */
  readonly allocated?: number;
  /** Heap run: used heap still held after the run and a forced GC, over the level before it, bytes. */
  readonly retained?: number;
  /** Heap run: garbage collections during the run. */
  readonly gcs?: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
const contenders = new Map(createContenders((workerData as { names: string[] }).names).map((c) => [c.name, c]));
let collections = 0;
new PerformanceObserver((list) => {
  collections += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

/** Lets pending GC performance entries reach the observer. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

async function handle(request: RunRequest): Promise<RunResult> {
  const contender = contenders.get(request.name);
  if (contender === undefined) throw new Error(`this isolate does not host ${request.name}`);
  contender.prepare?.(request.batch);
  if ((request.gcFirst || request.heap) && gc) gc();
  if (request.heap) await settle();
  const gcs0 = collections;
  const heap0 = getHeapStatistics().used_heap_size;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await contender.run(request.batch);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result = { wall, cpu: (cpu.user + cpu.system) / 1000 };
  if (!request.heap || !gc) return result;
  const allocated = getHeapStatistics().used_heap_size - heap0;
  await settle();
  const gcs = collections - gcs0;
  gc();
  return { ...result, allocated, retained: getHeapStatistics().used_heap_size - heap0, gcs };
}

parentPort!.on('message', (request: RunRequest) => {
  handle(request).then(
    (result) => parentPort!.postMessage(result),
    (error: unknown) => parentPort!.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});

/**
 * One isolate of the consumer benchmark: hosts the contenders named in workerData and runs one batch
 * per message, timing only `run` (bench/consumer.bench.ts explains the method).
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { KinesisStreamEvent } from 'aws-lambda';
import { createContenders } from './consumer-contenders';

export interface RunRequest {
  readonly name: string;
  readonly batch: KinesisStreamEvent;
  /** Forced GC before the run (heap rounds and BENCH_GC_BETWEEN=1). */
  readonly gcFirst: boolean;
}

export interface RunResult {
  readonly wall: number;
  /** Process CPU (user + system, all threads, GC helpers included) during the run, ms. */
  readonly cpu: number;
  /** Growth of this isolate's used heap during the run, bytes (meaningful after gcFirst). */
  readonly heap: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
const contenders = new Map(createContenders((workerData as { names: string[] }).names).map((c) => [c.name, c]));

parentPort!.on('message', (request: RunRequest) => {
  void (async () => {
    const contender = contenders.get(request.name);
    if (contender === undefined) throw new Error(`this isolate does not host ${request.name}`);
    contender.prepare?.(request.batch);
    if (request.gcFirst && gc) gc();
    const heap0 = getHeapStatistics().used_heap_size;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await contender.run(request.batch);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const heap = getHeapStatistics().used_heap_size - heap0;
    const result: RunResult = { wall, cpu: (cpu.user + cpu.system) / 1000, heap };
    parentPort!.postMessage(result);
  })().catch((error: unknown) => {
    parentPort!.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});

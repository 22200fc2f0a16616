/**
 * The cross-engine scenario matrix: every scenario states the Kinesis engines it runs on; each test
 * file starts one emulator per engine (beforeAll) and runs its scenarios against it. kinesis-local
 * (kinesis-mock) is much slower than kinesalite, so it gets smaller volumes, never fewer scenarios.
 */
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as KinesisRecord,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createKinesisClient, ensureStream, listAllShards } from '../../kinesis/client';
import { ENGINES, type EmbeddedKinesis, type EngineName } from '../support/emulators';

export type { EngineName };
export const ALL_ENGINES: readonly EngineName[] = ENGINES.map((engine) => engine.name);

/**
 * Where a scenario runs: every engine, or a subset with the reason the others lack the API
 * (a reason is mandatory, so a restriction never goes unexplained).
 */
export type ScenarioEngines = { readonly on: 'every engine' } | { readonly on: readonly EngineName[]; readonly why: string };
export const EVERY_ENGINE: ScenarioEngines = { on: 'every engine' };

/** Records per scenario: kinesis-local writes about 100-250 records/s through PutRecords here. */
export interface Volume {
  /** Valid events. */
  readonly events: number;
  /** Invalid events (contract violations and undecodable bytes). */
  readonly invalid: number;
  /** Distinct partition keys the valid events are spread over. */
  readonly keys: number;
}

export const VOLUME: Readonly<Record<EngineName, Volume>> = {
  kinesalite: { events: 500, invalid: 25, keys: 25 },
  'kinesis-local': { events: 100, invalid: 10, keys: 10 },
};

/** One engine, shared by all scenarios of a test file. Fields are set once `beforeAll` ran. */
export interface EngineUnderTest {
  readonly name: EngineName;
  readonly volume: Volume;
  readonly endpoint: string;
  readonly client: KinesisClient;
  /** A fresh PROVISIONED stream (unique name per call), ACTIVE, with its ARN. */
  createStream(prefix: string, shardCount: number): Promise<{ name: string; arn: string }>;
}

/** `describe` one block per engine, each with its own emulator started once for the whole block. */
export function forEachEngine(body: (engine: EngineUnderTest) => void): void {
  describe.each(ENGINES.map((spec) => ({ name: spec.name, spec })))('on $name', ({ name, spec }) => {
    let emulator: EmbeddedKinesis | undefined;
    let client: KinesisClient | undefined;
    let streams = 0;
    beforeAll(async () => {
      emulator = await spec.start();
      client = createKinesisClient({ endpoint: emulator.endpoint, region: 'us-east-1' });
    });
    afterAll(async () => {
      client?.destroy();
      await emulator?.stop();
    });
    const started = <T>(value: T | undefined): T => {
      if (value === undefined) throw new Error(`${name} is not started (beforeAll failed?)`);
      return value;
    };
    body({
      name,
      volume: VOLUME[name],
      get endpoint() {
        return started(emulator).endpoint;
      },
      get client() {
        return started(client);
      },
      async createStream(prefix, shardCount) {
        const kinesis = started(client);
        streams += 1;
        const streamName = `${prefix}-${streams}`;
        await ensureStream(kinesis, { name: streamName, shardCount, pollMs: 20 });
        const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
        const arn = summary.StreamDescriptionSummary?.StreamARN;
        if (arn === undefined) throw new Error(`${name}: DescribeStreamSummary returned no StreamARN`);
        return { name: streamName, arn };
      },
    });
  });
}

/** Register one scenario for `engine`: run when the scenario lists it, otherwise shown as skipped with the reason. */
export function scenario(
  engine: { readonly name: EngineName },
  title: string,
  engines: ScenarioEngines,
  fn: () => Promise<void>,
  timeoutMs?: number,
): void {
  if (engines.on === 'every engine' || engines.on.includes(engine.name)) {
    it(title, fn, timeoutMs);
  } else {
    it.skip(`${title} [not on ${engine.name}: ${engines.why}]`, fn);
  }
}

/** Kinesis's documented sequence number shape (Kinesis API reference, Record: pattern `0|([1-9]\d{0,128})`). */
export const SEQUENCE_NUMBER_PATTERN = /^(0|[1-9]\d{0,128})$/;

export interface ShardRecords {
  readonly shardId: string;
  /** In GetRecords order. */
  readonly records: KinesisRecord[];
}

/** Every record of every shard, read with GetRecords from TRIM_HORIZON until a page comes back empty. */
export async function readShards(client: KinesisClient, streamName: string): Promise<ShardRecords[]> {
  const out: ShardRecords[] = [];
  for (const shard of await listAllShards(client, streamName)) {
    const shardId = shard.ShardId!;
    const records: KinesisRecord[] = [];
    let iterator = (
      await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))
    ).ShardIterator;
    // kinesalite always answers MillisBehindLatest 0, so "caught up" here is an empty page, on both engines.
    while (iterator !== undefined) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      const batch = page.Records ?? [];
      records.push(...batch);
      if (batch.length === 0) break;
      iterator = page.NextShardIterator;
    }
    out.push({ shardId, records });
  }
  return out;
}

/** A Lambda context with plenty of time left (the runtime's timeout guard reads it). */
export function lambdaContext(functionName = 'engines-consumer'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'engines-request',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'engines',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Poll `condition` until true (bounded; no fixed sleeps in assertions). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** ESM timing for tests: fast polls and retries (defaults are AWS-like seconds). */
export const FAST_ESM_TIMING = {
  pollIntervalMs: 25,
  busyPollIntervalMs: 5,
  shardDiscoveryIntervalMs: 100,
  retryBaseDelayMs: 10,
  retryMaxDelayMs: 40,
  readErrorBackoffMs: 50,
};

export function byBigInt(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

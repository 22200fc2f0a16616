/**
 * The consumer benchmark's workload and contenders (bench/consumer.bench.ts runs them, each in its own
 * worker isolate; see there for the method).
 */
import { Writable } from 'node:stream';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { z } from 'zod';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MemoryDurableStore, type DurableRecordStore } from '../consumers/runtime/durable-store';
import { DynamoDbDurableStore } from '../consumers/runtime/dynamodb-durable-store';
import { InMemoryQuarantineSink, createKinesisHandler } from '../consumers/runtime/index';
import { LOCAL_CREDENTIALS } from '../kinesis/client';
import { LEDGER_KEY_ATTRIBUTE } from '../pipeline/publish-ledger-table';
import { createFixtures } from '../schemas/fixtures';
import { EVENT_DEFINITIONS, EventRegistry, orderPlacedV1, registry, type OrderEvent } from '../schemas/index';

const BASE_SEQUENCE = 49590338271490256608559692538361571095921575989136588898n;

export interface Batch {
  readonly event: KinesisStreamEvent;
  /** Mean bytes of JSON per record. */
  readonly meanJsonBytes: number;
}

/**
 * A Kinesis event (Lambda's shape, one shard) of `records` distinct `order.placed` v1 events with 10
 * line items (~1 KiB of JSON each), distinct per seed: a warm container sees new event ids per batch.
 * `lines: null` leaves the line count to the fixtures (1-5, as the local runner's upstream produces).
 */
export function makeBatch(seed: number, records: number, lines: number | null = 10): Batch {
  const fixtures = createFixtures({ seed });
  const out: KinesisStreamRecord[] = [];
  let bytes = 0;
  for (let i = 0; i < records; i++) {
    const event = fixtures.orderPlaced(lines === null ? {} : { lines });
    const json = JSON.stringify(event);
    bytes += Buffer.byteLength(json);
    const sequenceNumber = (BASE_SEQUENCE + BigInt(seed) * 1_000_000n + BigInt(i)).toString();
    out.push({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: event.data.orderId,
        sequenceNumber,
        data: Buffer.from(json).toString('base64'),
        approximateArrivalTimestamp: Date.now() / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/bench',
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/bench',
    });
  }
  return { event: { Records: out }, meanJsonBytes: records > 0 ? bytes / records : 0 };
}

/** One contender: `prepare` runs outside the timed region (e.g. pre-parsing for validation-only runs). */
export interface Contender {
  readonly name: string;
  prepare?(batch: KinesisStreamEvent): void;
  run(batch: KinesisStreamEvent): Promise<void> | void;
}

export const FLOOR = 'floor (base64+JSON.parse+zod)';
export const FLOOR_COMPILED = 'floor-compiled (base64+JSON.parse+z.compile)';
export const DECODE_ONLY = 'decode-only (base64+JSON.parse, no validation)';
export const RUNTIME = 'runtime (createKinesisHandler)';
export const ZOD_ONLY = 'zod-only (safeParse, regular parser)';
export const COMPILED_ONLY = 'compiled-only (safeParse, z.compile)';
export const PT_ZOD_PARALLEL = 'pt-zod parallel (BatchProcessor + zod by hand)';
export const PT_ZOD_SEQUENTIAL = 'pt-zod sequential';
export const PT_PARSER_PARALLEL = 'pt-parser parallel (innerSchema, base64)';
export const PT_PARSER_SEQUENTIAL = 'pt-parser sequential';
export const RUNTIME_MEMORY_CLAIMS = 'runtime + claims in memory (MemoryDurableStore)';
export const RUNTIME_DYNAMODB = 'runtime + DynamoDB claims on dynalite (2 writes/record)';
/** Set by bench/consumer.bench.ts: dynalite, started in the main thread (its CPU is not the contender's). */
export const DYNAMODB_ENDPOINT_VARIABLE = 'BENCH_DYNAMODB_ENDPOINT';

const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 900_000 } as unknown as Context;
/** Every contender counts its records here, so none of their work can be optimised away. */
let sink = 0;

function check(res: { batchItemFailures: unknown[] }, who: string): void {
  if (res.batchItemFailures.length > 0) throw new Error(`${who} reported ${res.batchItemFailures.length} failures`);
}

const decode = (r: KinesisStreamRecord): unknown => JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8'));

/** A plain loop over the records: decode, then validate with `schema` (or nothing). */
function loop(name: string, schema: z.ZodType | undefined): Contender {
  return {
    name,
    run: (batch) => {
      for (const r of batch.Records) {
        const value = decode(r);
        if (schema === undefined ? value === null : !schema.safeParse(value).success) throw new Error(`${name}: invalid record`);
        sink += 1;
      }
    },
  };
}

/** Validation alone, on records parsed in `prepare` (outside the timed region). */
function validateOnly(name: string, schema: z.ZodType): Contender {
  let parsed: unknown[] = [];
  return {
    name,
    prepare: (batch) => {
      parsed = batch.Records.map(decode);
    },
    run: () => {
      for (const value of parsed) {
        if (!schema.safeParse(value).success) throw new Error(`${name}: invalid record`);
        sink += 1;
      }
    },
  };
}

function runtimeContender(name: string, validator: EventRegistry<OrderEvent>, durableStore?: () => Promise<DurableRecordStore>): Contender {
  const handler = createKinesisHandler<OrderEvent>({
    consumerName: 'bench',
    registry: validator,
    // The store is created by the first (warm-up, unrecorded) batch, as by a container's first invocation.
    ...(durableStore !== undefined ? { durableStore } : {}),
    quarantine: new InMemoryQuarantineSink(),
    logDestination: new Writable({ write: (_chunk, _enc, done) => done() }),
    metrics: { writer: () => undefined },
    handlers: { 'order.placed': () => undefined },
  });
  return { name, run: async (batch) => check(await handler(batch, context), name) };
}

/** The idempotency table as infra declares it, on the dynalite the benchmark started. */
async function dynaliteStore(): Promise<DurableRecordStore> {
  const endpoint = process.env[DYNAMODB_ENDPOINT_VARIABLE];
  if (endpoint === undefined) throw new Error(`${RUNTIME_DYNAMODB} needs ${DYNAMODB_ENDPOINT_VARIABLE}`);
  const client = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: LOCAL_CREDENTIALS });
  await client
    .send(
      new CreateTableCommand({
        TableName: 'bench-idempotency',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: LEDGER_KEY_ATTRIBUTE, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: LEDGER_KEY_ATTRIBUTE, KeyType: 'HASH' }],
      }),
    )
    .catch((error: unknown) => {
      if ((error as { name?: string }).name !== 'ResourceInUseException') throw error; // created by an earlier isolate
    });
  return new DynamoDbDurableStore({ client, tableName: 'bench-idempotency' });
}

/** The schema the issue names (zod's regular parser) and what the registry validates it with. */
const schema = orderPlacedV1.schema;
function compiled(): z.ZodType {
  const validator = registry.validator(orderPlacedV1);
  if (!validator.compiled) throw new Error(`order.placed did not compile: ${validator.reason}`);
  return validator.schema;
}

/** A record handler validating with `target` by hand, as a Powertools user would write it. */
const byHand = (target: z.ZodType) => async (record: KinesisStreamRecord): Promise<void> => {
  const result = target.safeParse(decode(record));
  if (!result.success) throw new Error(result.error.message);
};

/** `processPartialResponse` with `processor` and `recordHandler`, in parallel (Powertools' default) or sequentially. */
function batchProcessor(name: string, processor: BatchProcessor, recordHandler: (record: KinesisStreamRecord) => Promise<void>, parallel: boolean): Contender {
  const options = parallel ? { context } : { context, processInParallel: false };
  return { name, run: async (batch) => check(await processPartialResponse(batch, recordHandler, processor, options), name) };
}

// The (b): BatchProcessor with its parser integration, as documented in
// packages/batch/src/BatchProcessor.ts and types.ts (parser + innerSchema + transformer).
const parserIntegration = (): BatchProcessor => new BatchProcessor(EventType.KinesisDataStreams, { parser, innerSchema: schema, transformer: 'base64' });
const noop = async (): Promise<void> => undefined;

/** Every contender by name, in the order the tables list them; each factory builds its contender once. */
const FACTORIES: Record<string, (name: string) => Contender> = {
  [FLOOR]: (name) => loop(name, schema),
  [FLOOR_COMPILED]: (name) => loop(name, compiled()),
  [DECODE_ONLY]: (name) => loop(name, undefined),
  [RUNTIME]: (name) => runtimeContender(name, registry),
  'runtime-uncompiled (registry { compiled: false })': (name) =>
    runtimeContender(name, new EventRegistry<OrderEvent>(EVENT_DEFINITIONS, { compiled: false })),
  [ZOD_ONLY]: (name) => validateOnly(name, schema),
  [COMPILED_ONLY]: (name) => validateOnly(name, compiled()),
  [PT_ZOD_PARALLEL]: (name) => batchProcessor(name, new BatchProcessor(EventType.KinesisDataStreams), byHand(schema), true),
  [PT_ZOD_SEQUENTIAL]: (name) => batchProcessor(name, new BatchProcessor(EventType.KinesisDataStreams), byHand(schema), false),
  'pt-zod parallel + z.compile': (name) => batchProcessor(name, new BatchProcessor(EventType.KinesisDataStreams), byHand(compiled()), true),
  [PT_PARSER_PARALLEL]: (name) => batchProcessor(name, parserIntegration(), noop, true),
  [PT_PARSER_SEQUENTIAL]: (name) => batchProcessor(name, parserIntegration(), noop, false),
  [RUNTIME_MEMORY_CLAIMS]: (name) => runtimeContender(name, registry, async () => new MemoryDurableStore()),
  [RUNTIME_DYNAMODB]: (name) => runtimeContender(name, registry, dynaliteStore),
};

/** Every contender, in the order the tables list them. */
export const CONTENDER_NAMES: readonly string[] = Object.keys(FACTORIES);

/**
 * Builds the named contenders, each once (like a container: handlers, processors and compiled schemas
 * are built before the first batch). Unknown names throw.
 */
export function createContenders(names: readonly string[]): Contender[] {
  return names.map((name) => {
    const factory = FACTORIES[name];
    if (factory === undefined) throw new Error(`unknown contender ${name}`);
    return factory(name);
  });
}

/** Names of the contenders that run BENCH_SLOW_RUNS rounds only. */
export const SLOW_NAMES: ReadonlySet<string> = new Set([PT_PARSER_PARALLEL, PT_PARSER_SEQUENTIAL, RUNTIME_DYNAMODB]);

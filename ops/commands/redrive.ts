/** `ops redrive <consumer>`: on-failure batches (or, with --quarantine, quarantined records) back into the pipeline. */
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { DynamoDbDurableStore } from '../../consumers/runtime/dynamodb-durable-store';
import { compileFilters } from '../../kinesis/filter-pattern';
import { idempotencyTableName } from '../../pipeline/idempotency-table';
import { defaultInvokeIdentityArn } from '../../local/esm/stream-record';
import { KinesisProducer } from '../../producers/kinesis-producer';
import { ShardRangeReader } from '../aws/shard-range-reader';
import { SqsMessageSource } from '../aws/sqs-message-source';
import { createContext, resolveConsumer, type ConsumerTarget, type OpsContext } from '../context';
import { RecordInspector } from '../decode/record-inspector';
import { formatQuarantineItem, formatQuarantineSummary, formatRedriveItem, formatRedriveSummary } from '../format/redrive-report';
import { UsageError } from '../io';
import { NdjsonClaimSource } from '../local/ndjson-claim-source';
import { onFailureFile, quarantineFile } from '../local/runner-info';
import type { AlreadyDoneCheck } from '../redrive/already-done';
import type { MessageSource } from '../redrive/message-source';
import { redriveOnFailure, type RedriveMode } from '../redrive/redrive-on-failure';
import { redriveQuarantine } from '../redrive/redrive-quarantine';
import type { RecordPutter } from '../redrive/reput';
import { defineCommand, intOption, type Command } from './command';

const OPTIONS = {
  mode: { type: 'string' },
  quarantine: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'discard-unrecoverable': { type: 'boolean' },
  'max-attempts': { type: 'string' },
  'max-messages': { type: 'string' },
  'get-records-limit': { type: 'string' },
  'queue-url': { type: 'string' },
  file: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const HELP = `Usage: ops redrive <consumer> [--mode invoke|reput] [--dry-run] [options]
       ops redrive <consumer> --quarantine [--dry-run] [options]

Redrives the consumer's failed batches. Each on-failure record (Lambda's invocation record with
KinesisBatchInfo: shard and sequence range, no data) is read from the consumer's on-failure queue
(<pipeline>-<stage>-<consumer>-on-failure; locally <data-dir>/on-failure/<consumer>.ndjson), the exact
records are read back from Kinesis, then:
  --mode invoke   re-invoke the consumer (Invoke RequestResponse) with the event its event source
                  mapping sends, honouring a partial batch response (default)
  --mode reput    re-put the records (raw bytes, original partition keys) with the producer; every
                  consumer of the stream reads them again
Records that already took effect (the consumer's idempotency table says COMPLETED) are not sent again
and are reported as "already done", so a redrive never repeats an effect.
An on-failure record is removed only after its records succeeded. Records past the stream's retention
are reported as UNRECOVERABLE (shard, sequence range, count) and their on-failure record is kept.

--quarantine redrives the consumer's quarantine instead (<...>-quarantine queue; locally
<data-dir>/quarantine/<consumer>.ndjson): every record is validated again with the current schemas;
valid ones are re-put and removed, still-invalid ones stay and the reason is printed.

Options:
  --mode invoke|reput         how to redrive on-failure batches (default invoke)
  --dry-run                   read and report, change nothing (messages are made visible again)
  --discard-unrecoverable     remove on-failure records whose unrecoverable part was reported
  --max-attempts N            invocations per batch before giving up (default 3)
  --max-messages N            stop after N queue messages / file lines (default: all)
  --get-records-limit N       GetRecords Limit per call (default 1000)
  --queue-url URL             queue to read instead of the stage's queue
  --file PATH                 NDJSON file to read instead of the local data folder's
  --json                      one JSON object per record and a summary object

Examples:
  npm run ops -- redrive order-review --stage prod --dry-run
  npm run ops -- redrive order-review --stage prod --mode invoke
  npm run ops -- redrive order-metrics --local --mode reput
  npm run ops -- redrive order-review --local --quarantine`;

export const redriveCommand: Command = defineCommand({
  name: 'redrive',
  summary: 'redrive failed batches (on-failure records) or the quarantine after a fix',
  help: HELP,
  options: OPTIONS,
  async run({ values, positionals }, env) {
    const mode = (values.mode ?? 'invoke') as RedriveMode;
    if (mode !== 'invoke' && mode !== 'reput') throw new UsageError(`--mode must be invoke or reput, got "${values.mode}"`);
    if (values.quarantine && values.mode !== undefined) throw new UsageError('--quarantine always re-puts valid records: drop --mode');
    if (positionals.length > 1) throw new UsageError(`one consumer at a time, got: ${positionals.join(' ')}`);
    const ctx = await createContext(values, env);
    const consumer = resolveConsumer(ctx, positionals[0]);
    const dryRun = values['dry-run'] ?? false;
    const maxMessages = values['max-messages'] !== undefined ? intOption(values['max-messages'], 'max-messages', 0) : undefined;
    const reader = new ShardRangeReader(ctx.clients.kinesis, { limit: intOption(values['get-records-limit'], 'get-records-limit', 1000, 1, 10_000) });
    const json = values.json ?? false;

    if (values.quarantine) {
      const source = await openSource(ctx, consumer, 'quarantine', { dryRun, maxMessages, queueUrl: values['queue-url'], file: values.file });
      const producer = dryRun ? undefined : createProducer(ctx, consumer);
      try {
        const summary = await redriveQuarantine({
          source,
          inspector: new RecordInspector(),
          reader,
          dryRun,
          ...(producer ? { putter: producer } : {}),
          onItem: (report) => env.io.out(json ? JSON.stringify(report) : formatQuarantineItem(report)),
        });
        env.io.out(json ? JSON.stringify({ summary: { ...summary, items: undefined } }) : formatQuarantineSummary(summary, dryRun));
        return summary.ok ? 0 : 1;
      } finally {
        await producer?.close();
      }
    }

    if (mode === 'invoke' && (consumer.definition.mapping.tumblingWindowInSeconds ?? 0) > 0) {
      throw new UsageError(
        `${consumer.name} aggregates over tumbling windows: a redriven batch has no window state to join, so re-invoking ` +
          'it would publish a partial window. Use --mode reput: the records arrive again and are counted in a current window.',
      );
    }
    const source = await openSource(ctx, consumer, 'on-failure', { dryRun, maxMessages, queueUrl: values['queue-url'], file: values.file });
    const producer = mode === 'reput' && !dryRun ? createProducer(ctx, consumer) : undefined;
    try {
      const summary = await redriveOnFailure({
        source,
        reader,
        mode,
        dryRun,
        discardUnrecoverable: values['discard-unrecoverable'] ?? false,
        expectedStreamName: consumer.streamName,
        ...(producer ? { putter: producer } : {}),
        ...alreadyDoneCheck(ctx, consumer),
        invoke: {
          lambda: ctx.clients.lambda,
          functionName: consumer.functionName,
          region: ctx.region,
          invokeIdentityArn: memo(() => invokeIdentityArn(ctx, consumer)),
          reportBatchItemFailures: consumer.definition.mapping.reportBatchItemFailures,
          maxAttempts: intOption(values['max-attempts'], 'max-attempts', 3, 1, 100),
          batchSize: consumer.definition.mapping.batchSize,
          filter: compileFilters(consumer.definition.mapping.filterPatterns),
        },
        onItem: (report) => {
          if (json) env.io.out(JSON.stringify(report));
          else for (const line of formatRedriveItem(report)) env.io.out(line);
        },
      });
      env.io.out(json ? JSON.stringify({ summary: { ...summary, items: undefined } }) : formatRedriveSummary(summary, dryRun));
      return summary.ok ? 0 : 1;
    } finally {
      await producer?.close();
    }
  },
});

interface SourceChoice {
  readonly dryRun: boolean;
  readonly maxMessages: number | undefined;
  readonly queueUrl: string | undefined;
  readonly file: string | undefined;
}

async function openSource(ctx: OpsContext, consumer: ConsumerTarget, kind: 'on-failure' | 'quarantine', choice: SourceChoice): Promise<MessageSource> {
  if (choice.file !== undefined || (ctx.target === 'local' && choice.queueUrl === undefined)) {
    const path = choice.file ?? (kind === 'on-failure' ? onFailureFile(ctx.dataDir, consumer.name) : quarantineFile(ctx.dataDir, consumer.name));
    return new NdjsonClaimSource({ path, readOnly: choice.dryRun });
  }
  let queueUrl = choice.queueUrl;
  if (queueUrl === undefined) {
    const queueName = kind === 'on-failure' ? consumer.onFailureQueueName : consumer.quarantineQueueName;
    const out = await ctx.clients.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    if (!out.QueueUrl) throw new Error(`queue ${queueName} has no URL`);
    queueUrl = out.QueueUrl;
  }
  return new SqsMessageSource({ sqs: ctx.clients.sqs, queueUrl, ...(choice.maxMessages !== undefined ? { maxMessages: choice.maxMessages } : {}) });
}

/**
 * Raw re-puts: no aggregation (records may already be aggregates), per-key order kept. The client has
 * SDK retries off: the producer retries failed entries itself.
 */
function createProducer(ctx: OpsContext, consumer: ConsumerTarget): KinesisProducer & RecordPutter {
  return new KinesisProducer({ streamName: consumer.streamName, client: ctx.clients.kinesisPut, ordered: true, aggregation: false });
}

/** The role the event source mapping invokes with: the function's execution role. */
async function invokeIdentityArn(ctx: OpsContext, consumer: ConsumerTarget): Promise<string> {
  if (ctx.target === 'local') {
    const info = ctx.runner?.consumers[consumer.name];
    const explicit = info?.['invokeIdentityArn'];
    if (typeof explicit === 'string') return explicit;
    return defaultInvokeIdentityArn(consumer.functionName, consumer.name);
  }
  const out = await ctx.clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: consumer.functionName }));
  if (!out.Role) throw new Error(`GetFunctionConfiguration ${consumer.functionName} returned no Role`);
  return out.Role;
}

/**
 * The consumer's idempotency table (pipeline option `idempotencyTable`), so records that already took
 * effect are reported as such and not sent again; none for a consumer without one.
 */
function alreadyDoneCheck(ctx: OpsContext, consumer: ConsumerTarget): { alreadyDone: AlreadyDoneCheck } | Record<string, never> {
  if (!consumer.definition.idempotencyTable) return {};
  let tableName: string | undefined;
  if (ctx.target === 'local') {
    const tables = ctx.runner?.['idempotencyTables'] as Record<string, unknown> | undefined;
    const local = tables?.[consumer.name];
    if (typeof local !== 'string' || typeof ctx.runner?.['dynamodbEndpoint'] !== 'string') return {};
    tableName = local;
  } else {
    tableName = idempotencyTableName(consumer.functionName);
  }
  return { alreadyDone: { store: new DynamoDbDurableStore({ client: ctx.clients.dynamodb, tableName }), inspector: new RecordInspector() } };
}

function memo<T>(fn: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= fn());
}

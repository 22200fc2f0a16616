/**
 * The ground-truth check of a local run: reads each stream the reference consumers read, computes
 * their effects from its unique valid events (ground-truth.ts), reads what the run produced from the
 * data folder (observed-effects.ts) and lists every difference (compare-effects.ts).
 *
 * The reference consumers are found by their handler file, so a test pipeline that runs them under
 * other names is checked too: `consumers/order-metrics/handler.ts` (windows) and
 * `consumers/order-review/handler.ts` (review requests to the function it invokes).
 */
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { join } from 'node:path';
import { readOrderReviewConfig } from '../../consumers/order-review/config';
import { compileFilters } from '../../kinesis/filter-pattern';
import type { ConsumerDefinition, PipelineDefinition } from '../../pipeline';
import { functionNameVariable } from '../../pipeline/function-environment';
import { compareReviewRequests, compareWindows, type ConsumerVerdict, type EffectDifference } from './compare-effects';
import { expectedEffects, type GroundTruthRules, type StreamCounts } from './ground-truth';
import { checkpointFilesOf, readObservedReviewRequests, readObservedWindows, type UnreadableLine } from './observed-effects';
import { readStreamEvents } from './stream-events';

export const ORDER_METRICS_ENTRY = 'consumers/order-metrics/handler.ts';
export const ORDER_REVIEW_ENTRY = 'consumers/order-review/handler.ts';

export interface VerifyReport {
  readonly streams: { readonly name: string; readonly records: number; readonly counts: StreamCounts }[];
  readonly consumers: ConsumerVerdict[];
  readonly differences: EffectDifference[];
  /** Lines of effect files that are not JSON (torn appends): each may hide an effect. */
  readonly unreadable: UnreadableLine[];
  /** Consumers of the definition that are not reference consumers (their effects are not known here). */
  readonly notChecked: string[];
  readonly ok: boolean;
}

export interface VerifyRunOptions {
  readonly definition: PipelineDefinition;
  readonly dataDir: string;
  readonly kinesis: KinesisClient;
  /** Only these consumers (default: every reference consumer of the definition). */
  readonly consumers?: readonly string[];
}

const entryOf = (c: ConsumerDefinition) => c.entry.replace(/\\/g, '/');

export async function verifyRun(options: VerifyRunOptions): Promise<VerifyReport> {
  const { definition, dataDir, kinesis } = options;
  const selected = Object.entries(definition.consumers).filter(([name]) => options.consumers === undefined || options.consumers.includes(name));
  const reference = selected.filter(([, c]) => entryOf(c) === ORDER_METRICS_ENTRY || entryOf(c) === ORDER_REVIEW_ENTRY);
  const notChecked = selected.filter(([, c]) => !reference.some(([, r]) => r === c)).map(([name]) => name);

  const streams: VerifyReport['streams'] = [];
  const verdicts: ConsumerVerdict[] = [];
  const differences: EffectDifference[] = [];
  const unreadable: UnreadableLine[] = [];
  for (const streamName of [...new Set(reference.map(([, c]) => c.stream))]) {
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const streamArn = summary.StreamDescriptionSummary!.StreamARN!;
    const read = await readStreamEvents(kinesis, streamName, streamArn);
    const onStream = reference.filter(([, c]) => c.stream === streamName);
    let counts: StreamCounts | undefined;
    for (const [name, consumer] of onStream) {
      if (entryOf(consumer) === ORDER_METRICS_ENTRY) {
        const expected = expectedEffects(read.events, { windowSeconds: consumer.mapping.tumblingWindowInSeconds ?? 60 });
        counts ??= expected.counts;
        const namespace = consumer.environment['BUSINESS_METRICS_NAMESPACE'] ?? consumer.metricsNamespace ?? 'Orders/Business';
        const observed = await readObservedWindows({
          metricsFile: join(dataDir, 'metrics', `${namespace}.ndjson`),
          checkpointFiles: await checkpointFilesOf(join(dataDir, 'checkpoints'), definition.name, name),
        });
        unreadable.push(...observed.unreadable);
        const result = compareWindows({ consumer: name, expected: expected.windows, observed });
        verdicts.push(result.verdict);
        differences.push(...result.differences);
      } else {
        const intake = consumer.invokes[0] ?? 'review-intake';
        const { rules } = readOrderReviewConfig({ ...consumer.environment, [functionNameVariable(intake)]: intake });
        const review: GroundTruthRules['review'] = { rules, filter: compileFilters(consumer.mapping.filterPatterns) };
        const expected = expectedEffects(read.events, { review });
        counts ??= expected.counts;
        const observed = await readObservedReviewRequests(join(dataDir, 'invocations', `${intake}.ndjson`));
        unreadable.push(...observed.unreadable);
        const result = compareReviewRequests({ consumer: name, expected: expected.reviewRequests, observed });
        verdicts.push(result.verdict);
        differences.push(...result.differences);
      }
    }
    streams.push({ name: streamName, records: read.records, counts: counts! });
  }
  return {
    streams,
    consumers: verdicts,
    differences,
    unreadable,
    notChecked,
    ok: verdicts.every((v) => v.ok) && unreadable.length === 0,
  };
}

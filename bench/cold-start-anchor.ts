/**
 * The cold-start anchor of bench/cold-start.bench.ts: the handler a team would write with Powertools for
 * the same contract — `@aws-lambda-powertools/batch` BatchProcessor with its parser integration
 * (innerSchema + transformer 'base64', as documented in packages/batch/src/BatchProcessor.ts), over the
 * order events of schemas/ (every registered contract), partial batch response via processPartialResponse.
 * Bundled by infra/bundle.ts exactly as the consumers are. Not deployed.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { Context, KinesisStreamEvent, KinesisStreamBatchResponse } from 'aws-lambda';
import { z } from 'zod';
import { EVENT_DEFINITIONS } from '../schemas/index';

const [first, second, ...rest] = EVENT_DEFINITIONS.map((d) => d.schema);
const processor = new BatchProcessor(EventType.KinesisDataStreams, { parser, innerSchema: z.union([first, second, ...rest]), transformer: 'base64' });

const recordHandler = async (): Promise<void> => undefined;

export const handler = async (event: KinesisStreamEvent, context: Context): Promise<KinesisStreamBatchResponse> =>
  processPartialResponse(event, recordHandler, processor, { context });

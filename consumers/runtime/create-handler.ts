/** `createKinesisHandler`: typed per-event handlers -> a Lambda handler for a Kinesis event source mapping. */
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { HandlerRunner, type EventStep } from './handler-runner';
import type { ConsumerRuntimeOptions } from './options';
import { ConsumerRuntime } from './runtime';
import type { AnyEvent, EventHandlers } from './types';

/** Options of `createKinesisHandler`. */
export interface KinesisHandlerOptions<E extends AnyEvent> extends ConsumerRuntimeOptions<E> {
  /** Handler per event type; events of other types are validated and acknowledged. */
  handlers: EventHandlers<E>;
}

/** The Lambda handler returned by `createKinesisHandler`. Configure the mapping with ReportBatchItemFailures. */
export type KinesisBatchHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/**
 * Build a Lambda handler for a Kinesis event source mapping (with `FunctionResponseTypes:
 * ["ReportBatchItemFailures"]`). Everything heavy (settings, logger, sinks, clients) is built here,
 * once per container; the returned function only processes batches.
 */
export function createKinesisHandler<E extends AnyEvent>(options: KinesisHandlerOptions<E>): KinesisBatchHandler {
  const runtime = new ConsumerRuntime(options as unknown as ConsumerRuntimeOptions<AnyEvent>);
  const table = new Map<string, EventStep>();
  for (const [type, handler] of Object.entries(options.handlers as Record<string, EventStep | undefined>)) {
    if (typeof handler === 'function') table.set(type, handler);
  }
  const runner = new HandlerRunner((type) => table.get(type), runtime.settings.idempotency, () => runtime.log, runtime.claims, runtime.settings.hasEffect);
  const mode = { concurrency: runtime.settings.concurrency, stopAllOnFailure: false };
  return async (event, context) => {
    try {
      const result = await runtime.invoke(event, context, runner, mode);
      return { batchItemFailures: result.batchItemFailures };
    } catch (error) {
      // Rule 12: a runtime bug fails the whole invocation so Lambda retries / bisects the batch.
      runtime.builtLog?.error({ err: error, requestId: context?.awsRequestId }, 'consumer runtime error: failing the invocation');
      throw error;
    }
  };
}

/**
 * The project's pipeline with order-review behind the poison wrapper (chaos/poison-consumer.ts) and a
 * 3 s function timeout, so the record that hangs costs seconds per attempt, not 30.
 */
import type { PipelineDefinition } from '../pipeline';

const WRAPPED: Record<string, string> = { 'consumers/order-review/handler.ts': 'order-review' };

export function chaosDefinition(definition: PipelineDefinition): PipelineDefinition {
  const consumers = Object.fromEntries(
    Object.entries(definition.consumers).map(([name, consumer]) => {
      const wrapped = WRAPPED[consumer.entry];
      if (wrapped === undefined) return [name, consumer];
      return [name, { ...consumer, entry: 'chaos/poison-consumer.ts', timeoutSeconds: 3, environment: { ...consumer.environment, CHAOS_WRAPPED_ENTRY: wrapped } }];
    }),
  );
  return { ...definition, consumers };
}

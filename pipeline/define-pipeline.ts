/** Validates a pipeline definition at load time and explains every violation by field path and rule. */
import type { z } from 'zod';
import { pipelineSchema, type PipelineDefinition, type PipelineDefinitionInput } from './definition-schema';

export class PipelineDefinitionError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid pipeline definition:\n  ${problems.join('\n  ')}`);
    this.name = 'PipelineDefinitionError';
  }
}

/** `consumers.order-metrics.mapping.maximumRecordAgeInSeconds: must be -1 or between 60 and 604800`. */
function describe(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${[...issue.path, key].join('.')}: is not a known setting`);
  }
  const path = issue.path.map(String).join('.');
  return [path === '' ? issue.message : `${path}: ${issue.message}`];
}

/** Parse and validate; throws PipelineDefinitionError listing every problem. */
export function definePipeline(input: PipelineDefinitionInput): PipelineDefinition {
  const result = pipelineSchema.safeParse(input);
  if (!result.success) throw new PipelineDefinitionError(result.error.issues.flatMap(describe));
  return result.data;
}

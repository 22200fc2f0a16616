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

/**
 * Fallback wording for rules whose schema carries no message of its own (zod's defaults read
 * "Too small: expected number to be >=0"). Per-parse error maps rank below schema-level messages.
 */
const houseStyle: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return issue.expected === 'int' ? 'must be an integer' : `must be ${article(issue.expected)} ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'string' || issue.origin === 'array'
        ? `must have at least ${issue.minimum} ${issue.origin === 'string' ? 'characters' : 'items'}`
        : `must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'string' || issue.origin === 'array'
        ? `must have at most ${issue.maximum} ${issue.origin === 'string' ? 'characters' : 'items'}`
        : `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_key':
      return `is not a valid name: ${issue.issues.map((i) => i.message).join('; ')}`;
    default:
      return undefined;
  }
};

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/** Parse and validate; throws PipelineDefinitionError listing every problem. */
export function definePipeline(input: PipelineDefinitionInput): PipelineDefinition {
  const result = pipelineSchema.safeParse(input, { error: houseStyle });
  if (!result.success) throw new PipelineDefinitionError(result.error.issues.flatMap(describe));
  return result.data;
}

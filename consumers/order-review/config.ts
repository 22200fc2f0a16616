/**
 * order-review configuration from the environment, parsed once per container with errors naming the
 * variable and the expected form.
 */
import * as z from 'zod';
import { ISO_4217_CODES, type CurrencyCode } from '../../schemas/iso4217';
import type { ReviewRules } from './rules';

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

export const DEFAULT_MAX_UNITS_PER_SKU = 20;
export const DEFAULT_MAX_LINES = 30;

/** Lambda API reference, Invoke FunctionName: name, full or partial ARN, optional qualifier. */
const FUNCTION_NAME =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;

const amount = z.coerce
  .number()
  .pipe(z.int({ error: 'must be an integer amount in minor units' }).min(0, { error: 'must not be negative' }));

/**
 * REVIEW_AMOUNT_THRESHOLD_MINOR: either one integer for every currency ("50000"), or a comma list of
 * CURRENCY=amount with an optional "*" default ("EUR=50000,USD=55000,JPY=7500000,*=50000").
 */
export function parseAmountThresholds(raw: string): ReviewRules['amountThresholdMinor'] {
  const value = raw.trim();
  if (/^\d+$/.test(value)) return { default: Number(value), byCurrency: {} };
  const byCurrency: Partial<Record<CurrencyCode, number>> = {};
  let fallback: number | undefined;
  for (const part of value.split(',')) {
    const match = /^\s*([A-Z]{3}|\*)\s*=\s*(\d+)\s*$/.exec(part);
    if (!match) {
      throw new ConfigurationError(
        `REVIEW_AMOUNT_THRESHOLD_MINOR: "${part.trim()}" is not CURRENCY=amount; use one integer ("50000") or a list like "EUR=50000,JPY=7500000,*=50000"`,
      );
    }
    const [, code, minor] = match as unknown as [string, string, string];
    const parsed = amount.safeParse(minor);
    if (!parsed.success) throw new ConfigurationError(`REVIEW_AMOUNT_THRESHOLD_MINOR: ${code} ${parsed.error.issues[0]!.message}`);
    if (code === '*') fallback = parsed.data;
    else if ((ISO_4217_CODES as readonly string[]).includes(code)) byCurrency[code as CurrencyCode] = parsed.data;
    else throw new ConfigurationError(`REVIEW_AMOUNT_THRESHOLD_MINOR: "${code}" is not an active ISO-4217 currency code`);
  }
  return fallback === undefined ? { byCurrency } : { default: fallback, byCurrency };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ConfigurationError(`${name} must be a positive integer, got "${raw}"`);
  return Number(raw);
}

export interface OrderReviewConfig {
  readonly rules: ReviewRules;
  /** REVIEW_INTAKE_FUNCTION_NAME: name or ARN of the function receiving review requests. */
  readonly reviewIntakeFunctionName: string;
}

export function readOrderReviewConfig(env: NodeJS.ProcessEnv = process.env): OrderReviewConfig {
  const threshold = env['REVIEW_AMOUNT_THRESHOLD_MINOR'];
  if (threshold === undefined || threshold.trim() === '') {
    throw new ConfigurationError('REVIEW_AMOUNT_THRESHOLD_MINOR is required (e.g. "50000" or "EUR=50000,JPY=7500000,*=50000")');
  }
  const functionName = env['REVIEW_INTAKE_FUNCTION_NAME']?.trim();
  if (!functionName) throw new ConfigurationError('REVIEW_INTAKE_FUNCTION_NAME is required (name or ARN of the review-intake function)');
  if (functionName.length > 256 || !FUNCTION_NAME.test(functionName)) {
    throw new ConfigurationError(`REVIEW_INTAKE_FUNCTION_NAME "${functionName}" is not a Lambda function name or ARN`);
  }
  return {
    rules: {
      amountThresholdMinor: parseAmountThresholds(threshold),
      maxUnitsPerSku: positiveInt(env, 'REVIEW_MAX_UNITS_PER_SKU', DEFAULT_MAX_UNITS_PER_SKU),
      maxLines: positiveInt(env, 'REVIEW_MAX_LINES', DEFAULT_MAX_LINES),
    },
    reviewIntakeFunctionName: functionName,
  };
}

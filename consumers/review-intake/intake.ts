/**
 * review-intake's logic, separate from the Lambda entry: validate a review request and, locally, keep
 * a durable record of what was accepted.
 */
import { join } from 'node:path';
import { appendWholeLines } from '../runtime/append-whole-lines';
import { toValidationIssues, formatIssue, type ValidationIssue } from '../../schemas/errors';
import { DEFAULT_MAX_HOPS } from '../../schemas/envelope';
import { reviewRequestSchema, type ReviewRequest } from '../order-review/review-request';

/** The payload is not a valid review request: the sender has a bug. Lambda records it as a function error. */
export class InvalidReviewRequestError extends Error {
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(`invalid review request: ${issues.map(formatIssue).join('; ')}`);
    this.name = 'InvalidReviewRequestError';
  }
}

/** Validates the request, including the loop guard: a request handed over more than `maxHops` times is refused. */
export function parseReviewRequest(payload: unknown, maxHops: number = DEFAULT_MAX_HOPS): ReviewRequest {
  const parsed = reviewRequestSchema.safeParse(payload);
  if (!parsed.success) throw new InvalidReviewRequestError(toValidationIssues(parsed.error.issues));
  if (parsed.data.hops > maxHops) {
    throw new InvalidReviewRequestError([{ path: 'hops', message: `is ${parsed.data.hops}, above the hop limit ${maxHops} (possible loop)` }]);
  }
  return parsed.data;
}

/** Team contract: accepted requests land in `<LOCAL_DATA_DIR>/invocations/review-intake.ndjson`, one per line. */
export function reviewIntakeLogPath(dataDir: string): string {
  return join(dataDir, 'invocations', 'review-intake.ndjson');
}

export class ReviewRequestFileLog {
  constructor(readonly path: string) {}

  async append(request: ReviewRequest): Promise<void> {
    await appendWholeLines(this.path, `${JSON.stringify(request)}\n`);
  }
}

/**
 * Which Kinesis errors are worth retrying, and how long to wait: exponential backoff with full
 * jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"; AWS General Reference,
 * "Error retries and exponential backoff in AWS").
 */

export interface RetryOptions {
  /** Sends per record, first one included (default 10). */
  maxAttempts?: number;
  /** Backoff base: the first retry waits up to this long (default 100 ms). */
  baseDelayMs?: number;
  /** Cap of one backoff (default 5 000 ms). */
  maxDelayMs?: number;
  /** Give up when the next retry would start later than this after the record's first send (default 60 000 ms). */
  maxElapsedMs?: number;
}

export type ResolvedRetryOptions = Required<RetryOptions>;

export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const resolved = {
    maxAttempts: options.maxAttempts ?? 10,
    baseDelayMs: options.baseDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 5_000,
    maxElapsedMs: options.maxElapsedMs ?? 60_000,
  };
  if (!(resolved.maxAttempts >= 1)) throw new RangeError('retry.maxAttempts must be >= 1');
  if (!(resolved.baseDelayMs >= 0) || !(resolved.maxDelayMs >= resolved.baseDelayMs)) {
    throw new RangeError('retry delays must satisfy 0 <= baseDelayMs <= maxDelayMs');
  }
  return resolved;
}

/** Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))], `attempt` = sends so far (>= 1). */
export function backoffDelay(attempt: number, options: ResolvedRetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Errors that can never succeed on retry (wrong stream, no permission, bad input, KMS key unusable).
 * PutRecords errors: AccessDenied, InvalidArgument, KMSAccessDenied, KMSDisabled, KMSInvalidState,
 * KMSNotFound, KMSOptInRequired, ResourceNotFound (Kinesis API reference, PutRecords "Errors").
 */
const NON_RETRYABLE = new Set([
  'AccessDeniedException',
  'InvalidArgumentException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
  'ResourceNotFoundException',
  'ValidationException',
  'ValidationError',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'NotAuthorized',
  'DryRunOperationException',
  'SerializationException',
]);

/** Per-entry `ErrorCode` values that mean "slow down" (counted as throttles). */
const THROTTLE_CODES = new Set([
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'ThrottlingException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/**
 * Whole-request rejections that one malformed entry can cause (the request fails validation as a
 * whole: InvalidArgumentException / ValidationException / SerializationException), as opposed to
 * those every entry would get alike (missing stream, no permission, KMS key unusable). The producer
 * splits such a request to fail only the entries that cause them.
 */
const ENTRY_CAUSED = new Set(['InvalidArgumentException', 'ValidationException', 'ValidationError', 'SerializationException']);

export function mayBeCausedByOneEntry(code: string): boolean {
  return ENTRY_CAUSED.has(code);
}

export function isRetryableCode(code: string): boolean {
  return !NON_RETRYABLE.has(code);
}

export function isThrottleCode(code: string): boolean {
  return THROTTLE_CODES.has(code);
}

/** A stable code for a whole-request failure: the service error name, a network errno, or `HTTP_<status>`. */
export function errorCodeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } };
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code; // ECONNRESET, ETIMEDOUT...
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    const status = e.$metadata?.httpStatusCode;
    if (typeof status === 'number') return `HTTP_${status}`;
    if (typeof e.code === 'string') return e.code;
  }
  return 'UnknownError';
}

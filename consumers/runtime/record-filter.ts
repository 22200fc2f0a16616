/**
 * The consumer-side record filter: Lambda event-filtering patterns on `data` (same syntax and the
 * same compiler as the local event source mapping, kinesis/filter-pattern.ts), applied to each USER
 * record after KPL deaggregation and JSON parsing, before contract validation.
 *
 * Why not the mapping's FilterCriteria: Kinesis mappings filter on `data` parsed as JSON, and a KPL
 * aggregate is not JSON, so Lambda drops the whole aggregate, every matching record inside it
 * included, without invoking anything ("Using event filtering with a Kinesis event source"). The
 * pipeline definition refuses such mapping filters on streams that may carry aggregates and points
 * here (`recordFilterPatterns`, reaching the function as RECORD_FILTER_PATTERNS).
 *
 * Semantics: a record whose data matches no pattern counts as processed (as Lambda counts a filtered
 * record) and is reported as `filtered`; data that is not JSON is quarantined like any bad input,
 * never silently dropped. Cost: the patterns compile once per container; per record it is one
 * predicate call on the JSON the runtime parses anyway.
 */
import { compileDataPredicate, FilterPatternError } from '../../kinesis/filter-pattern';
import { RECORD_FILTER_PATTERNS_VARIABLE } from '../../pipeline/function-environment';
import { RuntimeConfigError } from './errors';

/** true = hand the record to the handlers; false = filtered out. */
export type RecordFilter = (data: unknown) => boolean;

/** The environment variable pipeline/function-environment.ts sets from `recordFilterPatterns`. */
const RECORD_FILTER_VARIABLE = RECORD_FILTER_PATTERNS_VARIABLE;

/** Compile patterns; undefined when there are none (every record passes, no per-record call). */
export function compileRecordFilter(patterns: readonly Record<string, unknown>[] | undefined, source = 'recordFilterPatterns'): RecordFilter | undefined {
  if (patterns === undefined || patterns.length === 0) return undefined;
  try {
    return compileDataPredicate(patterns, source);
  } catch (error) {
    if (error instanceof FilterPatternError) throw new RuntimeConfigError(error.message);
    throw error;
  }
}

/** The filter the environment configures (RECORD_FILTER_PATTERNS, a JSON array of patterns), if any. */
export function recordFilterFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): RecordFilter | undefined {
  const raw = env[RECORD_FILTER_VARIABLE];
  if (raw === undefined || raw.trim() === '') return undefined;
  let patterns: unknown;
  try {
    patterns = JSON.parse(raw);
  } catch {
    throw new RuntimeConfigError(`environment variable ${RECORD_FILTER_VARIABLE} is not JSON (expected an array of filter patterns)`);
  }
  if (!Array.isArray(patterns) || !patterns.every((p) => typeof p === 'object' && p !== null && !Array.isArray(p))) {
    throw new RuntimeConfigError(`environment variable ${RECORD_FILTER_VARIABLE} must be a JSON array of filter pattern objects`);
  }
  return compileRecordFilter(patterns as Record<string, unknown>[], RECORD_FILTER_VARIABLE);
}

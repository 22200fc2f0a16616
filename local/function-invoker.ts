/**
 * The FunctionInvoker the local event source mapping calls: one synchronous invocation of the
 * consumer in its sandbox pool, mapped to the mapping's InvokeOutcome (a timeout or crash is a
 * function error, as in Lambda).
 */
import type { FunctionInvoker } from './esm/index';
import type { LocalFunction } from './lambda/local-function';

/** The event source mapping's FunctionInvoker: one synchronous invocation in the function's sandbox pool. */
export function invokerFor(fn: LocalFunction): FunctionInvoker {
  return async (event: object) => {
    let result;
    try {
      result = await fn.invoke({ payload: JSON.stringify(event) });
    } catch (error) {
      return { ok: false, errorType: 'Crashed', errorMessage: (error as Error).message, durationMs: 0 };
    }
    if (result.ok) {
      let response: unknown;
      try {
        response = JSON.parse(result.payload);
      } catch {
        response = result.payload;
      }
      return { ok: true, response, durationMs: result.durationMs };
    }
    return { ok: false, errorType: result.errorType, errorMessage: `${result.error.errorType}: ${result.error.errorMessage}`, durationMs: result.durationMs };
  };
}

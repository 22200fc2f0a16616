/**
 * The `context` object Lambda's Node.js runtime passes to a handler (Lambda developer guide:
 * "Using the Lambda context object to retrieve Node.js function information").
 */
import type { ClientContext, Context } from 'aws-lambda';
import type { InvokeMessage, SandboxConfig } from './sandbox-protocol';

export function createLambdaContext(
  config: SandboxConfig,
  invoke: InvokeMessage,
  callbacks: { done(error: unknown, result?: unknown): void },
): Context {
  let clientContext: ClientContext | undefined;
  if (invoke.clientContext !== undefined) {
    try {
      clientContext = JSON.parse(Buffer.from(invoke.clientContext, 'base64').toString('utf8')) as ClientContext;
    } catch {
      clientContext = undefined;
    }
  }
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: config.functionName,
    functionVersion: config.functionVersion,
    invokedFunctionArn: invoke.invokedFunctionArn,
    // Lambda passes the memory size as a string.
    memoryLimitInMB: String(config.memoryLimitInMB),
    awsRequestId: invoke.requestId,
    logGroupName: config.logGroupName,
    logStreamName: config.logStreamName,
    clientContext,
    getRemainingTimeInMillis: () => Math.max(0, invoke.deadline - Date.now()),
    done: (error?: Error, result?: unknown) => callbacks.done(error ?? null, result),
    fail: (error: Error | string) => callbacks.done(typeof error === 'string' ? new Error(error) : error),
    succeed: (result: unknown) => callbacks.done(null, result),
  };
}

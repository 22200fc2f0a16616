/**
 * Hands a payload to a downstream function asynchronously. The AWS implementation is Lambda Invoke
 * with InvocationType "Event"; locally the same client talks to the local runner's Invoke-compatible
 * endpoint (env AWS_ENDPOINT_URL_LAMBDA, honoured by the SDK), so there is no local code path.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { onFirstUse } from '../runtime/on-first-use';

// Only orders matching a review rule are sent on: the Lambda client loads with the first of them, not at
// cold start (runtime/on-first-use.ts); after that each invoke pays one await of a settled promise.
const lambdaSdk = onFirstUse(() => import('./lambda-invoke-sdk'));

export interface Invoker {
  /** Resolves once the target accepted the payload for asynchronous processing; throws otherwise. */
  invoke(payload: object): Promise<void>;
}

/** Lambda API reference, Invoke: "For asynchronous invocations, the maximum payload size is 1 MB." */
export const ASYNC_INVOKE_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** The invocation was not accepted. Transient by nature (throttling, service errors): the record is retried. */
export class InvokeNotAcceptedError extends Error {
  constructor(
    readonly functionName: string,
    readonly statusCode: number | undefined,
  ) {
    super(`Lambda did not accept the asynchronous invocation of ${functionName} (status ${statusCode ?? 'none'}, expected 202)`);
    this.name = 'InvokeNotAcceptedError';
  }
}

export class LambdaEventInvoker implements Invoker {
  private readonly encoder = new TextEncoder();

  private client: LambdaClient | undefined;

  /** `client` default: `new LambdaClient({})` (the default credential chain), created on the first invoke. */
  constructor(
    readonly functionName: string,
    client?: LambdaClient,
  ) {
    this.client = client;
  }

  async invoke(payload: object): Promise<void> {
    const bytes = this.encoder.encode(JSON.stringify(payload));
    if (bytes.byteLength > ASYNC_INVOKE_MAX_PAYLOAD_BYTES) {
      throw new RangeError(`payload of ${bytes.byteLength} bytes exceeds the 1 MB asynchronous Invoke limit`);
    }
    // Errors of the SDK (throttling, 5xx, network, a missing function) propagate: the caller retries.
    const { LambdaClient, InvokeCommand } = await lambdaSdk();
    const client = (this.client ??= new LambdaClient({}));
    const response = await client.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: bytes }),
    );
    // Lambda API reference, Invoke: "202 for asynchronous invocations".
    if (response.StatusCode !== 202) throw new InvokeNotAcceptedError(this.functionName, response.StatusCode);
  }
}

/**
 * Hands a payload to a downstream function asynchronously. The AWS implementation is Lambda Invoke
 * with InvocationType "Event"; locally the same request goes to the local runner's Invoke-compatible
 * endpoint (env AWS_ENDPOINT_URL_LAMBDA), so there is no local code path.
 *
 * Two ways to send it, the same request: with credentials in the environment (every Lambda function,
 * LocalStack, the local runner) a SigV4-signed HTTPS request (signed-invoke.ts: a fifth of the SDK's
 * first-call cost in a cold sandbox); otherwise `@aws-sdk/client-lambda` with its default credential chain.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { onFirstUse } from '../runtime/on-first-use';
import type { SignedLambdaInvoke } from './signed-invoke';
import { signedInvokeConfig, type SignedInvokeConfig } from './signed-invoke-config';

// Only orders matching a review rule are sent on: the Lambda client loads with the first of them, not at
// cold start (runtime/on-first-use.ts); after that each invoke pays one await of a settled promise.
const lambdaSdk = onFirstUse(() => import('./lambda-invoke-sdk'));
// The signed request's code (node:https, the SigV4 signer) loads with the first review request too.
const signedInvoke = onFirstUse(() => import('./signed-invoke'));

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
  private readonly signedConfig: SignedInvokeConfig | undefined;
  private signed: SignedLambdaInvoke | undefined;

  /**
   * `client`: the SDK client to use (tests). Default: the signed request when the environment allows it
   * (signed-invoke.ts; `env` is read here, once), else `new LambdaClient({})` (the default credential
   * chain). Either is created with the first invoke.
   */
  constructor(
    readonly functionName: string,
    client?: LambdaClient,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    this.client = client;
    this.signedConfig = client === undefined ? signedInvokeConfig(env) : undefined;
  }

  /** How invocations are sent: 'signed-request' or 'sdk'. */
  get transport(): 'signed-request' | 'sdk' {
    return this.signedConfig !== undefined ? 'signed-request' : 'sdk';
  }

  async invoke(payload: object): Promise<void> {
    const bytes = this.encoder.encode(JSON.stringify(payload));
    if (bytes.byteLength > ASYNC_INVOKE_MAX_PAYLOAD_BYTES) {
      throw new RangeError(`payload of ${bytes.byteLength} bytes exceeds the 1 MB asynchronous Invoke limit`);
    }
    // Errors (throttling, 5xx, network, a missing function) propagate after the client's retries: the caller retries.
    if (this.signedConfig !== undefined) {
      const { SignedLambdaInvoke } = await signedInvoke();
      this.signed ??= new SignedLambdaInvoke(this.signedConfig);
      const status = await this.signed.invokeEvent(this.functionName, bytes);
      if (status !== 202) throw new InvokeNotAcceptedError(this.functionName, status);
      return;
    }
    const { LambdaClient, InvokeCommand } = await lambdaSdk();
    const client = (this.client ??= new LambdaClient({}));
    const response = await client.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: bytes }),
    );
    // Lambda API reference, Invoke: "202 for asynchronous invocations".
    if (response.StatusCode !== 202) throw new InvokeNotAcceptedError(this.functionName, response.StatusCode);
  }
}

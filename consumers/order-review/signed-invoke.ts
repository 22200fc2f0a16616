/**
 * Lambda `Invoke` with InvocationType "Event" as one SigV4-signed HTTPS request: the cold-start fast
 * path of order-review's review requests (issue 15).
 *
 * Why not `@aws-sdk/client-lambda` here: its first Invoke in a fresh sandbox costs about 100 ms of CPU
 * on this project's machine (loading the client, building its middleware stack and endpoint rules, and
 * running all of it for the first time), measured with bench/cold-start.bench.ts; this request costs
 * about 20 ms, the signer included. The request is signed by AWS's own Signature Version 4
 * implementation (`@smithy/signature-v4`, the SDK's signer), so only what is signed is ours: the
 * request the Lambda API reference describes (Invoke: `POST /2015-03-31/functions/{FunctionName}/invocations`,
 * header `X-Amz-Invocation-Type: Event`, the payload as body; 202 when accepted).
 * test/consumers/signed-invoke.test.ts checks that it is the request the SDK sends for the same call.
 *
 * Used only where it behaves as the SDK does (signed-invoke-config.ts answers undefined otherwise, and the
 * invoker uses the SDK client with its default credential chain):
 * - credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN):
 *   the first source of the SDK's default chain, and what Lambda gives every function (also LocalStack
 *   and the local runner's sandboxes);
 * - the region from AWS_REGION (Lambda sets it);
 * - the endpoint from AWS_ENDPOINT_URL_LAMBDA, else AWS_ENDPOINT_URL (the SDK's "service-specific
 *   endpoints" variables, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), else `https://lambda.<region>.amazonaws.com`
 *   for a region of the standard `aws` partition; FIPS or dual-stack endpoints (AWS_USE_FIPS_ENDPOINT,
 *   AWS_USE_DUALSTACK_ENDPOINT), other partitions (China, GovCloud, ISO) and a shared config file or
 *   profile (AWS_CONFIG_FILE, AWS_PROFILE) are left to the SDK.
 * Retries as the SDK's "standard" mode: AWS_MAX_ATTEMPTS attempts (default 3) for throttling, 5xx
 * and network errors, with full-jitter exponential backoff (base 100 ms, 500 ms after a throttle,
 * at most 20 s). An Invoke that was sent but not answered may be retried: review-intake accepts each
 * request once (consumers/review-intake/accept-once.ts), so a duplicate delivery is harmless.
 */
import { createHash, createHmac, type BinaryLike, type Hash, type Hmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { onFirstUse } from '../runtime/on-first-use';
import type { SignatureV4 } from '@smithy/signature-v4';
import type { SignedInvokeConfig } from './signed-invoke-config';

/** Lambda's error for a request the API refused (its `x-amzn-ErrorType` and message), or a network failure. */
export class LambdaInvokeError extends Error {
  constructor(
    readonly errorType: string,
    readonly statusCode: number | undefined,
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(`Lambda Invoke failed: ${errorType}${statusCode !== undefined ? ` (HTTP ${statusCode})` : ''}: ${message}`);
    this.name = 'LambdaInvokeError';
  }
}

export interface SignedInvokeOptions {
  /** Waits between attempts (tests schedule retries without waiting). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** [0, 1): the jitter of the backoff (tests pin it). */
  readonly random?: () => number;
  /** The signing time (tests pin it). */
  readonly now?: () => Date;
}

/** SHA-256 and HMAC-SHA-256 from node:crypto in the shape the signer asks for (the SDK's Node `Hash`). */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBinary(data: SourceData): BinaryLike {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret: BinaryLike | undefined;

  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : toBinary(secret);
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }

  update(data: SourceData): void {
    this.hash.update(toBinary(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }
}

// The signer loads with the first request (a chunk of the bundle), not at init.
const signerModule = onFirstUse(() => import('@smithy/signature-v4'));

/** The SDK's path encoding of a label (`extendedEncodeURIComponent`): encodeURIComponent plus !'()*. */
function encodeLabel(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const THROTTLING_TYPES = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'EC2ThrottledException']);

export class SignedLambdaInvoke {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => Date;
  private signerReady: Promise<SignatureV4> | undefined;

  constructor(
    readonly config: SignedInvokeConfig,
    options: SignedInvokeOptions = {},
  ) {
    // As the SDK's NodeHttpHandler: connections kept alive, at most 50 per host.
    this.agent = config.endpoint.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 50 }) : new HttpAgent({ keepAlive: true, maxSockets: 50 });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
  }

  /** Invoke `functionName` (name, name:qualifier or ARN) asynchronously; resolves with the status code (202 when accepted). */
  async invokeEvent(functionName: string, payload: Uint8Array): Promise<number> {
    const signer = await this.signer();
    const { endpoint } = this.config;
    const basePath = endpoint.pathname.replace(/\/+$/, '');
    const request = {
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: `${basePath}/2015-03-31/functions/${encodeLabel(functionName)}/invocations`,
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/octet-stream',
        'content-length': String(payload.byteLength),
        'x-amz-invocation-type': 'Event',
        // Not signed (SigV4 leaves user-agent out); names the caller in CloudTrail's userAgent.
        'user-agent': 'kinesis-pipeline/order-review signed-invoke',
      },
      body: payload,
    };
    let throttled = false;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        const base = throttled ? 500 : 100;
        await this.sleep(this.random() * Math.min(20_000, base * 2 ** (attempt - 2)));
      }
      // Signed per attempt: the signature carries the time (X-Amz-Date).
      const signed = await signer.sign(request, { signingDate: this.now() });
      try {
        return await this.send(signed.method, signed.path, signed.headers, payload);
      } catch (error) {
        const retryable = error instanceof LambdaInvokeError && (error.statusCode === undefined || RETRYABLE_STATUS.has(error.statusCode));
        if (!retryable || attempt >= this.config.maxAttempts) throw error;
        throttled = error.statusCode === 429 || THROTTLING_TYPES.has(error.errorType);
      }
    }
  }

  /** One signer per client, built with the first request (it caches its derived signing key per day). */
  private signer(): Promise<SignatureV4> {
    return (this.signerReady ??= signerModule().then(
      ({ SignatureV4 }) => new SignatureV4({ service: 'lambda', region: this.config.region, credentials: this.config.credentials, sha256: NodeSha256 }),
    ));
  }

  private send(method: string, path: string, headers: Record<string, string>, body: Uint8Array): Promise<number> {
    const { endpoint } = this.config;
    const send = endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send({ method, hostname: endpoint.hostname, port: endpoint.port || undefined, path, headers, agent: this.agent }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => reject(new LambdaInvokeError(networkErrorType(error), undefined, error.message, undefined)));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(status);
            return;
          }
          const requestId = header(res, 'x-amzn-requestid');
          const text = Buffer.concat(chunks).toString('utf8');
          let message = text;
          let bodyType: string | undefined;
          try {
            const parsed = JSON.parse(text) as { message?: unknown; Message?: unknown; __type?: unknown; code?: unknown };
            const m = parsed.message ?? parsed.Message;
            if (typeof m === 'string') message = m;
            const t = parsed.__type ?? parsed.code;
            if (typeof t === 'string') bodyType = t;
          } catch {
            // not JSON: the text is the message
          }
          // restJson1: the error code is in X-Amzn-ErrorType, possibly followed by ":<namespace>".
          const errorType = (header(res, 'x-amzn-errortype') ?? bodyType ?? `HTTP${status}`).split(':')[0]!.split('#').pop()!;
          reject(new LambdaInvokeError(errorType, status, message.slice(0, 500), requestId));
        });
      });
      req.on('error', (error) => reject(new LambdaInvokeError(networkErrorType(error), undefined, error.message, undefined)));
      req.end(body);
    });
  }

  /** Closes kept-alive connections (tests; a Lambda sandbox keeps them). */
  destroy(): void {
    this.agent.destroy();
  }
}

function header(res: IncomingMessage, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function networkErrorType(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'NetworkError';
}

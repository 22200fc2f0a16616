/**
 * A Lambda-Invoke-compatible HTTP endpoint, so `@aws-sdk/client-lambda` (pointed at it with
 * AWS_ENDPOINT_URL_LAMBDA or `endpoint`) invokes local functions unchanged (Lambda API reference,
 * Invoke: `POST /2015-03-31/functions/{FunctionName}/invocations`, header X-Amz-Invocation-Type):
 * - RequestResponse (default): 200, the function's JSON result as body; a function error adds
 *   header X-Amz-Function-Error (Unhandled) and the error object as body; LogType Tail returns
 *   the last 4 KB of the invocation's log lines in X-Amz-Log-Result (base64).
 * - Event: 202 with an empty body; the event runs later with asynchronous-invocation retries.
 * - DryRun: 204.
 * Errors that stop the invocation are API errors: ResourceNotFoundException (404),
 * InvalidRequestContentException (400), RequestTooLargeException (413, payload quotas: 6 MB
 * synchronous, 1 MB asynchronous), TooManyRequestsException (429, reserved concurrency reached).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NdjsonFile } from '../ndjson-file';
import type { AsyncInvokeQueue } from './async-invoke-queue';
import { functionArn, parseFunctionReference } from './function-names';
import { ThrottledError, type LocalFunction } from './local-function';

/** Lambda quotas: invocation payload (request and response) 6 MB synchronous, 1 MB asynchronous. */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
export const ASYNC_PAYLOAD_LIMIT_BYTES = 1024 * 1024;

export interface InvokeEndpointOptions {
  functions: ReadonlyMap<string, LocalFunction>;
  asyncQueues: ReadonlyMap<string, AsyncInvokeQueue>;
  region: string;
  /** Where each accepted request is recorded (invocations/<function>.ndjson). */
  invocationLog?: (functionName: string) => NdjsonFile | undefined;
  host?: string;
  port?: number;
}

export interface InvokeEndpoint {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export async function startInvokeEndpoint(options: InvokeEndpointOptions): Promise<InvokeEndpoint> {
  const server: Server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      sendError(response, 500, 'ServiceException', { Type: 'Service', Message: (error as Error).message });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}

async function handle(options: InvokeEndpointOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://local');
  const match = INVOKE_PATH.exec(url.pathname);
  if (request.method !== 'POST' || !match) {
    request.resume();
    sendError(response, 404, 'UnknownOperationException', { message: `the local Lambda endpoint serves only Invoke (POST /2015-03-31/functions/{FunctionName}/invocations), not ${request.method} ${url.pathname}` });
    return;
  }
  const requestedName = decodeURIComponent(match[1]!);
  const reference = parseFunctionReference(requestedName);
  const qualifier = url.searchParams.get('Qualifier') ?? reference?.qualifier;
  const fn = reference ? options.functions.get(reference.name) : undefined;
  const arn = functionArn(options.region, reference?.name ?? requestedName);
  if (!reference || !fn || (qualifier !== undefined && qualifier !== null && qualifier !== '$LATEST')) {
    request.resume();
    sendError(response, 404, 'ResourceNotFoundException', {
      Type: 'User',
      Message: `Function not found: ${arn}${qualifier ? `:${qualifier}` : ''}`,
    });
    return;
  }
  const invocationType = headerValue(request, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (invocationType !== 'RequestResponse' && invocationType !== 'Event' && invocationType !== 'DryRun') {
    request.resume();
    sendError(response, 400, 'InvalidParameterValueException', {
      Type: 'User',
      message: `1 validation error detected: Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
    });
    return;
  }
  const limit = invocationType === 'Event' ? ASYNC_PAYLOAD_LIMIT_BYTES : SYNC_PAYLOAD_LIMIT_BYTES;
  const body = await readBody(request, limit);
  if (body === undefined) {
    sendError(response, 413, 'RequestTooLargeException', {
      Type: 'User',
      message: `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
    });
    return;
  }
  const payload = body.toString('utf8');
  let parsed: unknown = {};
  if (payload.trim() !== '') {
    try {
      parsed = JSON.parse(payload);
    } catch (error) {
      sendError(response, 400, 'InvalidRequestContentException', {
        Type: 'User',
        message: `Could not parse request body into json: ${(error as Error).message}`,
      });
      return;
    }
  }
  const requestId = randomUUID();
  const invokedFunctionArn = qualifier ? `${fn.arn}:${qualifier}` : fn.arn;
  if (invocationType === 'DryRun') {
    response.writeHead(204, { 'x-amzn-RequestId': requestId }).end();
    return;
  }
  const record = { receivedAt: new Date().toISOString(), requestId, functionName: fn.name, invocationType, payload: parsed };
  if (invocationType === 'Event') {
    const queue = options.asyncQueues.get(fn.name);
    if (!queue) throw new Error(`no asynchronous queue for ${fn.name}`);
    // Recorded before the 202: an accepted event is on disk even if the runner dies right after.
    await options.invocationLog?.(fn.name)?.append(record);
    queue.enqueue({ requestId, payload: payload.trim() === '' ? '{}' : payload, invokedFunctionArn });
    response.writeHead(202, { 'x-amzn-RequestId': requestId, 'Content-Length': '0' }).end();
    return;
  }
  await options.invocationLog?.(fn.name)?.append(record);
  let result;
  try {
    result = await fn.invoke(
      {
        requestId,
        payload: payload.trim() === '' ? '{}' : payload,
        invokedFunctionArn,
        ...(headerValue(request, 'x-amz-client-context') !== undefined ? { clientContext: headerValue(request, 'x-amz-client-context')! } : {}),
      },
      { throttle: true },
    );
  } catch (error) {
    if (error instanceof ThrottledError) {
      sendError(response, 429, 'TooManyRequestsException', { Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
      return;
    }
    throw error;
  }
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': requestId,
    'X-Amz-Executed-Version': '$LATEST',
  };
  if (headerValue(request, 'x-amz-log-type') === 'Tail') headers['X-Amz-Log-Result'] = Buffer.from(result.logTail, 'utf8').toString('base64');
  let responseBody: string;
  if (result.ok) {
    responseBody = result.payload;
    if (Buffer.byteLength(responseBody, 'utf8') > SYNC_PAYLOAD_LIMIT_BYTES) {
      // The response quota applies too: Lambda turns an oversized response into a function error.
      headers['X-Amz-Function-Error'] = 'Unhandled';
      responseBody = JSON.stringify({
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT_BYTES} bytes).`,
      });
    }
  } else {
    headers['X-Amz-Function-Error'] = 'Unhandled';
    responseBody = JSON.stringify(result.error);
  }
  response.writeHead(200, { ...headers, 'Content-Length': String(Buffer.byteLength(responseBody, 'utf8')) }).end(responseBody);
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body, or undefined when it exceeds `limit` bytes (the rest is drained, not buffered). */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

function sendError(response: ServerResponse, status: number, code: string, body: Record<string, string>): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response
    .writeHead(status, {
      'Content-Type': 'application/json',
      'x-amzn-ErrorType': code,
      'x-amzn-RequestId': randomUUID(),
      'Content-Length': String(Buffer.byteLength(text, 'utf8')),
    })
    .end(text);
}

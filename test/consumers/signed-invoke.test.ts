/**
 * order-review's signed Invoke request (consumers/order-review/signed-invoke.ts) is the request the AWS
 * SDK sends for the same call, with the SDK as the oracle: both go to one capturing HTTP server, which
 * compares method, path (function names, qualifiers and ARNs encoded as the SDK encodes them), the
 * headers Lambda reads, the body, and checks each request's SigV4 signature by signing what arrived
 * again with the same credentials. Retries (throttling, 5xx, network) are scheduled by the server,
 * never random; the backoff's sleep and jitter are injected.
 */
import { once } from 'node:events';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LambdaEventInvoker } from '../../consumers/order-review/invoker';
import { LambdaInvokeError, SignedLambdaInvoke, type SignedInvokeOptions } from '../../consumers/order-review/signed-invoke';
import { signedInvokeConfig } from '../../consumers/order-review/signed-invoke-config';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token-example' };
const REGION = 'eu-west-1';

interface Captured {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: Server;
let endpoint: string;
const captured: Captured[] = [];
/** What the server answers, in order; then 202. */
let script: ((res: ServerResponse, req: IncomingMessage) => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      captured.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      const next = script.shift();
      if (next) return next(res, req);
      res.writeHead(202, { 'x-amzn-requestid': 'req-ok' });
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  captured.length = 0;
  script = [];
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_LAMBDA: endpoint,
    ...extra,
  };
}

function signedFrom(environment: Record<string, string>, options?: SignedInvokeOptions): SignedLambdaInvoke {
  const config = signedInvokeConfig(environment);
  if (config === undefined) throw new Error('the environment does not allow the signed request');
  return new SignedLambdaInvoke(config, options);
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * An independent SigV4 check of a received request (AWS General Reference, "Create a signed AWS API
 * request"): the canonical request from what arrived (path segments URI-encoded once more, as for every
 * service but S3), the signed headers the Authorization header names, the payload hash; the signature
 * recomputed with the secret key must be the one sent.
 */
function verifySigV4(request: Captured): { signedHeaders: string[]; scope: string } {
  const auth = String(request.headers['authorization']);
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  expect(match, auth).not.toBeNull();
  const [, accessKeyId, date, region, service, signedHeaderList, signature] = match!;
  expect(accessKeyId).toBe(CREDENTIALS.accessKeyId);
  const signedHeaders = signedHeaderList!.split(';');
  const [rawPath, rawQuery = ''] = request.path.split('?');
  const canonicalPath = rawPath!
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
  const canonicalQuery = rawQuery
    .split('&')
    .filter(Boolean)
    .sort()
    .join('&');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${String(request.headers[h]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = sha256(request.body);
  const canonical = ['POST', canonicalPath, canonicalQuery, canonicalHeaders, signedHeaderList, payloadHash].join('\n');
  const amzDate = String(request.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${CREDENTIALS.secretAccessKey}`, date!), region!), service!), 'aws4_request');
  expect(hmac(key, stringToSign).toString('hex')).toBe(signature);
  return { signedHeaders, scope };
}

async function viaSdk(functionName: string, payload: Uint8Array): Promise<Captured> {
  const client = new LambdaClient({ region: REGION, endpoint, credentials: { ...CREDENTIALS }, maxAttempts: 1 });
  try {
    const out = await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: payload }));
    expect(out.StatusCode).toBe(202);
  } finally {
    client.destroy();
  }
  return captured.at(-1)!;
}

async function viaSigned(functionName: string, payload: Uint8Array): Promise<Captured> {
  const signed = signedFrom(env());
  try {
    expect(await signed.invokeEvent(functionName, payload)).toBe(202);
  } finally {
    signed.destroy();
  }
  return captured.at(-1)!;
}

describe('the signed Invoke request is the SDK request', () => {
  const payload = new TextEncoder().encode(JSON.stringify({ orderId: 'ord_1', note: 'é ✓' }));
  for (const functionName of [
    'orders-prod-review-intake',
    'orders-prod-review-intake:live',
    'arn:aws:lambda:eu-west-1:123456789012:function:orders-prod-review-intake',
    "odd name (with) 'chars'!*",
  ]) {
    it(`same method, path, Lambda headers and body, and a valid signature: ${functionName}`, async () => {
      const sdk = await viaSdk(functionName, payload);
      const ours = await viaSigned(functionName, payload);
      expect(ours.method).toBe(sdk.method);
      expect(ours.path).toBe(sdk.path);
      expect(ours.body.equals(sdk.body)).toBe(true);
      for (const h of ['x-amz-invocation-type', 'content-type', 'content-length', 'host', 'x-amz-security-token']) {
        expect([h, ours.headers[h]]).toEqual([h, sdk.headers[h]]);
      }
      const oursSig = verifySigV4(ours);
      const sdkSig = verifySigV4(sdk);
      expect(oursSig.scope).toBe(sdkSig.scope);
      expect(oursSig.scope).toMatch(new RegExp(`/${REGION}/lambda/aws4_request$`));
      for (const h of ['host', 'x-amz-date', 'x-amz-invocation-type', 'x-amz-security-token', 'x-amz-content-sha256']) {
        expect(oursSig.signedHeaders).toContain(h);
      }
    });
  }

  it('a base path in the configured endpoint is kept, as the SDK keeps it', async () => {
    const sdkClient = new LambdaClient({ region: REGION, endpoint: `${endpoint}/prefix`, credentials: { ...CREDENTIALS }, maxAttempts: 1 });
    await sdkClient.send(new InvokeCommand({ FunctionName: 'f', InvocationType: 'Event', Payload: payload }));
    sdkClient.destroy();
    const sdkPath = captured.at(-1)!.path;
    const signed = signedFrom(env({ AWS_ENDPOINT_URL_LAMBDA: `${endpoint}/prefix` }));
    await signed.invokeEvent('f', payload);
    signed.destroy();
    expect(captured.at(-1)!.path).toBe(sdkPath);
    verifySigV4(captured.at(-1)!);
  });
});

describe('when the signed request is used (else the SDK with its default credential chain)', () => {
  it('needs credentials and a region in the environment', () => {
    expect(signedInvokeConfig(env())).toMatchObject({ region: REGION, maxAttempts: 3, credentials: CREDENTIALS });
    expect(signedInvokeConfig(env())?.endpoint.href).toBe(`${endpoint}/`);
    expect(signedInvokeConfig({ ...env(), AWS_ACCESS_KEY_ID: '' })).toBeUndefined();
    expect(signedInvokeConfig({ ...env(), AWS_SECRET_ACCESS_KEY: '' })).toBeUndefined();
    expect(signedInvokeConfig({ ...env(), AWS_REGION: '' })).toBeUndefined();
    const { AWS_SESSION_TOKEN: _, ...permanent } = env();
    expect(signedInvokeConfig(permanent)?.credentials).toEqual({ accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: CREDENTIALS.secretAccessKey });
  });

  it('the endpoint: AWS_ENDPOINT_URL_LAMBDA, else AWS_ENDPOINT_URL, else lambda.<region>.amazonaws.com in the aws partition only', () => {
    const { AWS_ENDPOINT_URL_LAMBDA: _, ...plain } = env();
    expect(signedInvokeConfig(plain)?.endpoint.href).toBe('https://lambda.eu-west-1.amazonaws.com/');
    expect(signedInvokeConfig({ ...plain, AWS_REGION: 'ap-southeast-4' })?.endpoint.href).toBe('https://lambda.ap-southeast-4.amazonaws.com/');
    expect(signedInvokeConfig({ ...plain, AWS_ENDPOINT_URL: 'http://localhost:4566' })?.endpoint.href).toBe('http://localhost:4566/');
    expect(signedInvokeConfig({ ...env(), AWS_ENDPOINT_URL: 'http://other:1' })?.endpoint.href).toBe(`${endpoint}/`);
    expect(signedInvokeConfig({ ...env(), AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })?.endpoint.href).toBe('https://lambda.eu-west-1.amazonaws.com/');
    for (const region of ['cn-north-1', 'us-gov-west-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1']) {
      expect([region, signedInvokeConfig({ ...plain, AWS_REGION: region })]).toEqual([region, undefined]);
    }
    expect(signedInvokeConfig({ ...env(), AWS_ENDPOINT_URL_LAMBDA: 'not a url' })).toBeUndefined();
    expect(signedInvokeConfig({ ...env(), AWS_ENDPOINT_URL_LAMBDA: 'ftp://x' })).toBeUndefined();
  });

  it('FIPS, dual-stack, a profile or a config file are left to the SDK; AWS_MAX_ATTEMPTS is honoured', () => {
    expect(signedInvokeConfig({ ...env(), AWS_USE_FIPS_ENDPOINT: 'true' })).toBeUndefined();
    expect(signedInvokeConfig({ ...env(), AWS_USE_DUALSTACK_ENDPOINT: 'TRUE' })).toBeUndefined();
    expect(signedInvokeConfig({ ...env(), AWS_USE_FIPS_ENDPOINT: 'false' })).toBeDefined();
    expect(signedInvokeConfig({ ...env(), AWS_PROFILE: 'dev' })).toBeUndefined();
    expect(signedInvokeConfig({ ...env(), AWS_CONFIG_FILE: '/x/config' })).toBeUndefined();
    expect(signedInvokeConfig({ ...env(), AWS_MAX_ATTEMPTS: '5' })?.maxAttempts).toBe(5);
    expect(signedInvokeConfig({ ...env(), AWS_MAX_ATTEMPTS: '0' })?.maxAttempts).toBe(3);
    expect(signedInvokeConfig({ ...env(), AWS_MAX_ATTEMPTS: 'many' })?.maxAttempts).toBe(3);
  });

  it('LambdaEventInvoker takes the signed request from the environment, the SDK when given a client or when the environment does not allow it', () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, env());
      expect(new LambdaEventInvoker('f').transport).toBe('signed-request');
      expect(new LambdaEventInvoker('f', new LambdaClient({ region: REGION })).transport).toBe('sdk');
      expect(new LambdaEventInvoker('f', undefined, { ...env(), AWS_PROFILE: 'dev' }).transport).toBe('sdk');
      process.env['AWS_PROFILE'] = 'dev';
      expect(new LambdaEventInvoker('f').transport).toBe('sdk');
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe('errors and retries (the SDK standard mode: 3 attempts, full-jitter backoff)', () => {
  function client(extra: Record<string, string> = {}) {
    const sleeps: number[] = [];
    const signed = signedFrom(env(extra), { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 });
    return { signed, sleeps };
  }
  const fail =
    (status: number, type?: string, body = '{"Type":"User","message":"nope"}') =>
    (res: ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': 'req-err', ...(type ? { 'x-amzn-errortype': type } : {}) });
      res.end(body);
    };
  const reset = (_res: ServerResponse, req: IncomingMessage) => req.socket.destroy();

  it('retries throttling, 5xx and a reset connection, each attempt signed anew; backoff 500 ms after a throttle, else 100 ms, doubling', async () => {
    script = [fail(429, 'TooManyRequestsException:http://internal.amazon.com/coral/com.amazonaws.awslambda/'), fail(503, 'ServiceException')];
    const { signed, sleeps } = client();
    expect(await signed.invokeEvent('f', new Uint8Array([123, 125]))).toBe(202);
    expect(captured).toHaveLength(3);
    // attempt 2 after the throttle: 0.5 x 500 ms; attempt 3 after the 503: 0.5 x 100 ms x 2.
    expect(sleeps).toEqual([0.5 * 500, 0.5 * 100 * 2]);
    for (const c of captured) verifySigV4(c);
    captured.length = 0;
    script = [reset];
    expect(await signed.invokeEvent('f', new Uint8Array([123, 125]))).toBe(202);
    expect(captured).toHaveLength(2);
    signed.destroy();
  });

  it('gives up after AWS_MAX_ATTEMPTS with the last error: type without its namespace suffix, status, message, request id', async () => {
    script = [fail(500, 'ServiceException'), fail(500, 'ServiceException'), fail(502, 'ServiceException:ns')];
    const { signed } = client();
    const error = (await signed.invokeEvent('f', new Uint8Array([123, 125])).catch((e: unknown) => e)) as LambdaInvokeError;
    expect(error).toBeInstanceOf(LambdaInvokeError);
    expect([error.errorType, error.statusCode, error.requestId]).toEqual(['ServiceException', 502, 'req-err']);
    expect(error.message).toBe('Lambda Invoke failed: ServiceException (HTTP 502): nope');
    expect(captured).toHaveLength(3);
    captured.length = 0;
    script = [fail(500), fail(500)];
    const once = client({ AWS_MAX_ATTEMPTS: '1' });
    await expect(once.signed.invokeEvent('f', new Uint8Array(0))).rejects.toThrow('HTTP500 (HTTP 500)');
    expect(captured).toHaveLength(1);
    signed.destroy();
    once.signed.destroy();
  });

  it('does not retry a client error (a missing function, a bad request): it fails at once, naming it', async () => {
    script = [fail(404, 'ResourceNotFoundException', '{"Type":"User","Message":"Function not found: arn:aws:lambda:eu-west-1:1:function:f"}')];
    const { signed, sleeps } = client();
    await expect(signed.invokeEvent('f', new Uint8Array(0))).rejects.toThrow('Lambda Invoke failed: ResourceNotFoundException (HTTP 404): Function not found');
    expect(captured).toHaveLength(1);
    expect(sleeps).toEqual([]);
    signed.destroy();
  });

  it('a redirect is an error, not an acceptance (Lambda answers 202; nothing follows a redirect)', async () => {
    script = [(res) => (res.writeHead(307, { location: 'http://elsewhere/' }), res.end())];
    const { signed } = client();
    await expect(signed.invokeEvent('f', new Uint8Array(0))).rejects.toThrow('Lambda Invoke failed: HTTP307 (HTTP 307)');
    expect(captured).toHaveLength(1);
    signed.destroy();
  });

  it('the invoker reports a 2xx other than 202 as not accepted', async () => {
    script = [(res) => (res.writeHead(200), res.end('{}'))];
    const saved = { ...process.env };
    Object.assign(process.env, env());
    try {
      const invoker = new LambdaEventInvoker('orders-prod-review-intake');
      await expect(invoker.invoke({ a: 1 })).rejects.toThrow('Lambda did not accept the asynchronous invocation of orders-prod-review-intake (status 200, expected 202)');
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

/**
 * An HTTP proxy in front of a Kinesis emulator that injects the faults real Kinesis produces, for
 * PutRecords calls only (everything else passes through untouched):
 *  - a share of entries failing per response with ProvisionedThroughputExceededException or
 *    InternalFailure (those entries are NOT forwarded, so they are really not written),
 *  - whole-request 500 InternalFailure (nothing forwarded),
 *  - connection resets before forwarding (nothing written),
 *  - connection resets after forwarding (written, but the client cannot know: the ambiguous case),
 *  - slow responses,
 *  - whole-request 400 rejections (InvalidArgumentException) of requests carrying a marked entry,
 *    as Kinesis answers a request with one malformed entry,
 *  - PutRecords held until the test releases them (instead of sleeps that race a timer).
 * Random decisions come from a seeded PRNG, so a run is reproducible; `counts` proves the faults
 * happened. A test that ASSERTS a fault happened schedules it (`schedule`): luck must never decide
 * whether a test passes.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '../../schemas/seeded-random';

export interface FaultOptions {
  seed?: number;
  /** Per forwarded PutRecords request: share of entries failed with ProvisionedThroughputExceededException. */
  throttleEntryFraction?: number;
  /** Per forwarded PutRecords request: share of entries failed with InternalFailure. */
  internalFailureEntryFraction?: number;
  /** Share of PutRecords requests answered 500 InternalFailure without forwarding. */
  http500Rate?: number;
  /** Share of PutRecords requests answered 400 ProvisionedThroughputExceededException without forwarding. */
  requestThrottleRate?: number;
  /** Share of PutRecords requests whose connection is reset before forwarding. */
  resetRate?: number;
  /** Share of PutRecords requests forwarded, then reset instead of answered (ambiguous outcome). */
  resetAfterForwardRate?: number;
  /** Share of PutRecords requests delayed by `slowMs` before forwarding. */
  slowRate?: number;
  slowMs?: number;
  /**
   * Faults for the first PutRecords requests, in order, before the random mix applies (guarantees each
   * kind occurs). `throttleEntry` / `internalFailureEntry` fail the request's first entry with
   * ProvisionedThroughputExceededException / InternalFailure and pass the rest.
   */
  schedule?: readonly RequestFault[];
  /**
   * Requests carrying an entry with one of these partition keys are rejected as a whole with HTTP 400
   * `rejectErrorType` (default InvalidArgumentException), nothing forwarded.
   */
  rejectRequestsWithKeys?: readonly string[];
  rejectErrorType?: string;
}

export type RequestFault =
  | 'pass'
  | 'reset'
  | 'http500'
  | 'requestThrottle'
  | 'resetAfterForward'
  | 'slow'
  | 'throttleEntry'
  | 'internalFailureEntry';

export interface FaultCounts {
  putRecordsRequests: number;
  throttledEntries: number;
  internalFailureEntries: number;
  http500: number;
  requestThrottles: number;
  resets: number;
  resetsAfterForward: number;
  /** Entries that were written upstream although the client saw a reset. */
  ambiguousEntries: number;
  slow: number;
  listShards: number;
  /** Requests rejected as a whole for a marked entry (rejectRequestsWithKeys). */
  rejectedRequests: number;
  /** Sizes of the PutRecords requests that reached the proxy, in arrival order. */
  requestSizes: number[];
}

export interface FaultProxy {
  readonly endpoint: string;
  readonly counts: FaultCounts;
  /** Change the fault mix at runtime (e.g. switch faults off). */
  configure(options: FaultOptions): void;
  /** Hold every PutRecords request (before any fault applies) until `release()`. */
  hold(): void;
  release(): void;
  /** PutRecords requests currently held. */
  readonly held: number;
  stop(): Promise<void>;
}

interface PutRecordsBody {
  StreamName?: string;
  Records: { Data: string; PartitionKey: string; ExplicitHashKey?: string }[];
}

interface PutRecordsResult {
  FailedRecordCount?: number;
  Records: { SequenceNumber?: string; ShardId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

export async function startFaultProxy(upstream: string, initial: FaultOptions = {}): Promise<FaultProxy> {
  const target = new URL(upstream);
  let options: FaultOptions = initial;
  let random = mulberry32(initial.seed ?? 42);
  const counts: FaultCounts = {
    putRecordsRequests: 0,
    throttledEntries: 0,
    internalFailureEntries: 0,
    http500: 0,
    requestThrottles: 0,
    resets: 0,
    resetsAfterForward: 0,
    ambiguousEntries: 0,
    slow: 0,
    listShards: 0,
    rejectedRequests: 0,
    requestSizes: [],
  };
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  let held = 0;

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      headers['content-length'] = String(body.length);
      headers['host'] = target.host;
      const upstreamReq = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out[k] = v;
            resolve({ status: res.statusCode ?? 500, headers: out, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      upstreamReq.on('error', reject);
      upstreamReq.end(body);
    });

  const reply = (res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string): void => {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    const out: Record<string, string> = { ...headers, 'content-length': String(buf.length) };
    delete out['transfer-encoding'];
    res.writeHead(status, out);
    res.end(buf);
  };

  const jsonError = (res: ServerResponse, status: number, type: string, message: string): void =>
    reply(res, status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type }, JSON.stringify({ __type: type, message }));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const targetHeader = String(req.headers['x-amz-target'] ?? '');
    if (targetHeader.endsWith('.ListShards')) counts.listShards++;
    if (!targetHeader.endsWith('.PutRecords')) {
      const up = await forward(req, body);
      reply(res, up.status, up.headers, up.body);
      return;
    }
    if (gate) {
      held++;
      await gate.promise;
      held--;
    }
    counts.putRecordsRequests++;
    const o = options;
    const parsed = JSON.parse(body.toString('utf8')) as PutRecordsBody;
    counts.requestSizes.push(parsed.Records.length);
    if (o.rejectRequestsWithKeys?.length && parsed.Records.some((r) => o.rejectRequestsWithKeys!.includes(r.PartitionKey))) {
      counts.rejectedRequests++;
      const type = o.rejectErrorType ?? 'InvalidArgumentException';
      jsonError(res, 400, type, `1 validation error detected: Value at 'records.N.member.explicitHashKey' failed to satisfy constraint (injected ${type})`);
      return;
    }
    let scheduled = o.schedule?.[counts.putRecordsRequests - 1];
    const firstEntryFault =
      scheduled === 'throttleEntry'
        ? 'ProvisionedThroughputExceededException'
        : scheduled === 'internalFailureEntry'
          ? 'InternalFailure'
          : undefined;
    if (firstEntryFault !== undefined) scheduled = 'pass';
    // A scheduled fault maps onto the same decision ladder as a random draw.
    const ladder: RequestFault[] = ['reset', 'http500', 'requestThrottle', 'resetAfterForward', 'slow'];
    const rates = [o.resetRate ?? 0, o.http500Rate ?? 0, o.requestThrottleRate ?? 0, o.resetAfterForwardRate ?? 0, o.slowRate ?? 0];
    let draw = random();
    if (scheduled !== undefined) {
      const index = ladder.indexOf(scheduled);
      draw = 0.5;
      for (let i = 0; i < rates.length; i++) rates[i] = i === index ? 1 : 0;
    }
    let edge = 0;
    if (draw < (edge += rates[0]!)) {
      counts.resets++;
      req.socket.destroy();
      return;
    }
    if (draw < (edge += rates[1]!)) {
      counts.http500++;
      jsonError(res, 500, 'InternalFailure', 'injected internal failure');
      return;
    }
    if (draw < (edge += rates[2]!)) {
      counts.requestThrottles++;
      jsonError(res, 400, 'ProvisionedThroughputExceededException', 'Rate exceeded for stream (injected)');
      return;
    }
    const resetAfter = draw < (edge += rates[3]!);
    if (!resetAfter && draw < (edge += rates[4]!)) {
      counts.slow++;
      await new Promise((r) => setTimeout(r, o.slowMs ?? 100));
    }

    // Per-entry failures: drop a share of entries before forwarding, answer them as failed.
    const verdicts = parsed.Records.map((_, i) => {
      if (i === 0 && firstEntryFault !== undefined) return firstEntryFault;
      const x = random();
      if (x < (o.throttleEntryFraction ?? 0)) return 'ProvisionedThroughputExceededException';
      if (x < (o.throttleEntryFraction ?? 0) + (o.internalFailureEntryFraction ?? 0)) return 'InternalFailure';
      return undefined;
    });
    const forwardedRecords = parsed.Records.filter((_, i) => verdicts[i] === undefined);
    let upstreamResults: PutRecordsResult['Records'] = [];
    let upstreamMeta: { status: number; headers: Record<string, string> } = {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
    };
    if (forwardedRecords.length > 0) {
      const up = await forward(req, Buffer.from(JSON.stringify({ ...parsed, Records: forwardedRecords })));
      if (up.status !== 200) {
        reply(res, up.status, up.headers, up.body);
        return;
      }
      upstreamResults = (JSON.parse(up.body.toString('utf8')) as PutRecordsResult).Records;
      upstreamMeta = { status: up.status, headers: up.headers };
    }
    if (resetAfter) {
      counts.resetsAfterForward++;
      counts.ambiguousEntries += forwardedRecords.length;
      req.socket.destroy();
      return;
    }
    let next = 0;
    let failed = 0;
    const merged: PutRecordsResult['Records'] = verdicts.map((code) => {
      if (code === undefined) {
        const r = upstreamResults[next++]!;
        if (r.ErrorCode) failed++;
        return r;
      }
      failed++;
      if (code === 'InternalFailure') {
        counts.internalFailureEntries++;
        return { ErrorCode: code, ErrorMessage: 'Internal service failure.' };
      }
      counts.throttledEntries++;
      return {
        ErrorCode: code,
        ErrorMessage: `Rate exceeded for shard in stream ${parsed.StreamName ?? ''} under account 000000000000.`,
      };
    });
    reply(res, 200, upstreamMeta.headers, JSON.stringify({ FailedRecordCount: failed, Records: merged }));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) jsonError(res, 500, 'InternalFailure', `proxy error: ${String(error)}`);
      else res.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    configure(next: FaultOptions) {
      options = next;
      if (next.seed !== undefined) random = mulberry32(next.seed);
    },
    hold() {
      if (gate) return;
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
    },
    release() {
      gate?.open();
      gate = undefined;
    },
    get held() {
      return held;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        gate?.open();
        gate = undefined;
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

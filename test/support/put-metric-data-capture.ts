/**
 * A local HTTP endpoint that records PutMetricData requests exactly as the SDK puts them on the wire
 * (request line, headers, body, gzip or not) and answers them as CloudWatch's JSON protocol does on
 * success. Point a real CloudWatchClient at `endpoint` to measure what would be sent to AWS.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface CapturedPutMetricData {
  /** Bytes of request line + headers + body as received. */
  wireBytes: number;
  /** Bytes of request line + headers. */
  headBytes: number;
  /** Bytes of the body as received (gzip when the SDK compressed it). */
  bodyBytes: number;
  /** Bytes of the body after gunzip (the serialized request). */
  serializedBytes: number;
  contentEncoding: string | undefined;
  target: string | undefined;
  contentType: string | undefined;
  input: { Namespace: string; MetricData: JsonMetricDatum[] };
}

/** A MetricDatum as it appears in the JSON body (Timestamp in epoch seconds). */
export type JsonMetricDatum = Omit<MetricDatum, 'Timestamp'> & { Timestamp?: number };

export interface PutMetricDataCapture {
  endpoint: string;
  requests: CapturedPutMetricData[];
  /** A client that sends to this endpoint (HTTP/1.1, fake credentials). */
  client(): CloudWatchClient;
  close(): Promise<void>;
}

export async function startPutMetricDataCapture(): Promise<PutMetricDataCapture> {
  const requests: CapturedPutMetricData[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const contentEncoding = header(req, 'content-encoding');
      const serialized = contentEncoding === 'gzip' ? gunzipSync(body) : body;
      requests.push({
        wireBytes: headBytes(req) + body.length,
        headBytes: headBytes(req),
        bodyBytes: body.length,
        serializedBytes: serialized.length,
        contentEncoding,
        target: header(req, 'x-amz-target'),
        contentType: header(req, 'content-type'),
        input: JSON.parse(serialized.toString('utf8')) as CapturedPutMetricData['input'],
      });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': String(requests.length) });
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: CloudWatchClient[] = [];
  return {
    endpoint,
    requests,
    client() {
      const client = new CloudWatchClient({
        endpoint,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDCAPTURE', secretAccessKey: 'capture' },
        requestHandler: new NodeHttpHandler(),
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** `POST / HTTP/1.1\r\n` + each `Name: value\r\n` + `\r\n`, as received. */
function headBytes(req: IncomingMessage): number {
  let bytes = Buffer.byteLength(`${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`);
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    bytes += Buffer.byteLength(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`);
  }
  return bytes + 2;
}

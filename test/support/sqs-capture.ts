/**
 * A local HTTP endpoint speaking the SQS JSON protocol (awsJson1_0, `X-Amz-Target: AmazonSQS.<Action>`)
 * for the two calls the pipeline's functions make, SendMessage and SendMessageBatch, recording every
 * message body per queue. No emulator for SQS runs on this machine; unlike aws-sdk-client-mock it works
 * across processes, so a Lambda bundle running in a sandbox can write its quarantine here.
 * Responses follow the SQS API reference: `MessageId` and `MD5OfMessageBody` (hex MD5 of the body, which
 * the SDK verifies) per entry.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedMessage {
  queueUrl: string;
  body: string;
}

export interface SqsCapture {
  /** `http://127.0.0.1:<port>` (AWS_ENDPOINT_URL_SQS). */
  readonly endpoint: string;
  readonly messages: CapturedMessage[];
  /** The URL of a queue named `name` on this endpoint (`<endpoint>/<account>/<name>`, as SQS shapes it). */
  queueUrl(name: string, account?: string): string;
  /** Message bodies sent to one queue, parsed as JSON. */
  bodies<T = unknown>(queueUrl: string): T[];
  close(): Promise<void>;
}

interface Entry {
  Id: string;
  MessageBody: string;
}

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

export async function startSqsCapture(): Promise<SqsCapture> {
  const messages: CapturedMessage[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { QueueUrl: string; MessageBody?: string; Entries?: Entry[] };
      let output: unknown;
      if (target === 'AmazonSQS.SendMessageBatch') {
        const entries = input.Entries ?? [];
        for (const e of entries) messages.push({ queueUrl: input.QueueUrl, body: e.MessageBody });
        output = { Successful: entries.map((e) => ({ Id: e.Id, MessageId: randomUUID(), MD5OfMessageBody: md5(e.MessageBody) })), Failed: [] };
      } else if (target === 'AmazonSQS.SendMessage') {
        messages.push({ queueUrl: input.QueueUrl, body: input.MessageBody ?? '' });
        output = { MessageId: randomUUID(), MD5OfMessageBody: md5(input.MessageBody ?? '') };
      } else {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `not emulated: ${target}` }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(output));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    messages,
    queueUrl: (name, account = '123456789012') => `${endpoint}/${account}/${name}`,
    bodies: <T>(queueUrl: string) => messages.filter((m) => m.queueUrl === queueUrl).map((m) => JSON.parse(m.body) as T),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

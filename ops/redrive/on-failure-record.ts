/**
 * The on-failure record Lambda sends to a Kinesis event source mapping's on-failure destination
 * (Lambda developer guide, "services-kinesis-errors" / "invocation-async-retain-records"): metadata
 * only — the shard and sequence range of the failed batch, never the records themselves.
 * Parsed, not trusted: queue messages and file lines can be anything.
 */
import * as z from 'zod';

const sequenceNumber = z.string().regex(/^\d+$/, { error: 'must be a decimal Kinesis sequence number' });

export const kinesisBatchInfoSchema = z.object({
  shardId: z.string().min(1),
  startSequenceNumber: sequenceNumber,
  endSequenceNumber: sequenceNumber,
  approximateArrivalOfFirstRecord: z.string().optional(),
  approximateArrivalOfLastRecord: z.string().optional(),
  batchSize: z.int().min(0).optional(),
  streamArn: z.string().regex(/^arn:aws[a-z-]*:kinesis:[^:]*:[^:]*:stream\/.+$/, { error: 'must be a Kinesis stream ARN' }),
});

export const onFailureRecordSchema = z.object({
  requestContext: z
    .object({
      requestId: z.string().optional(),
      functionArn: z.string().optional(),
      condition: z.string().optional(),
      approximateInvokeCount: z.number().optional(),
    })
    .optional(),
  responseContext: z
    .object({
      statusCode: z.number().optional(),
      executedVersion: z.string().optional(),
      functionError: z.string().optional(),
    })
    .optional(),
  version: z.string().optional(),
  timestamp: z.string().optional(),
  KinesisBatchInfo: kinesisBatchInfoSchema,
});

export type KinesisBatchInfo = z.output<typeof kinesisBatchInfoSchema>;
export type ParsedOnFailureRecord = z.output<typeof onFailureRecordSchema>;

export type OnFailureParse = { ok: true; record: ParsedOnFailureRecord } | { ok: false; reason: string };

/** Parse one on-failure record from its JSON text (an SQS message body or an NDJSON line). */
export function parseOnFailureRecord(text: string): OnFailureParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const result = onFailureRecordSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { ok: false, reason: `not a Kinesis on-failure record (${issues.join('; ')})` };
  }
  const info = result.data.KinesisBatchInfo;
  if (BigInt(info.startSequenceNumber) > BigInt(info.endSequenceNumber)) {
    return { ok: false, reason: 'KinesisBatchInfo.startSequenceNumber is after endSequenceNumber' };
  }
  return { ok: true, record: result.data };
}

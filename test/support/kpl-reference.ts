/**
 * Reading KPL aggregates with an implementation independent of kinesis/kpl.ts: aws-kinesis-agg (the
 * awslabs library for the KPL aggregated record format), checksums verified, and the format's magic
 * number checked on the raw bytes ("KPL aggregated record format": 0xF3 0x89 0x9A 0xC2, then the
 * protobuf message, then its 16-byte MD5). Tests use it to check what the stream holds.
 */
import { deaggregateSync, type UserRecord as AggUserRecord } from 'aws-kinesis-agg';

/** The magic number that opens every KPL aggregated record (written here, not imported from kinesis/kpl.ts). */
export const KPL_FORMAT_MAGIC = Buffer.from('f3899ac2', 'hex');

export function startsWithKplMagic(data: Uint8Array): boolean {
  return data.length > KPL_FORMAT_MAGIC.length && Buffer.from(data.subarray(0, KPL_FORMAT_MAGIC.length)).equals(KPL_FORMAT_MAGIC);
}

export interface ReferenceUserRecord {
  partitionKey: string;
  explicitPartitionKey: string | undefined;
  data: Buffer;
}

/** The user records of one Kinesis record as aws-kinesis-agg reads them (a plain record yields itself). */
export function referenceDeaggregate(record: { partitionKey: string; sequenceNumber: string; data: Uint8Array }): ReferenceUserRecord[] {
  let out: ReferenceUserRecord[] | undefined;
  let failure: Error | undefined;
  deaggregateSync(
    {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      data: Buffer.from(record.data).toString('base64'),
      approximateArrivalTimestamp: 0,
    },
    true,
    (error: Error | null, users?: AggUserRecord[]) => {
      if (error) failure = error;
      else
        out = (users ?? []).map((u) => ({
          partitionKey: u.partitionKey,
          explicitPartitionKey: u.explicitPartitionKey,
          data: Buffer.from(u.data, 'base64'),
        }));
    },
  );
  if (failure) throw failure;
  if (!out) throw new Error('aws-kinesis-agg returned nothing');
  return out;
}

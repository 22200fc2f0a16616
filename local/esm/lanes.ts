/**
 * ParallelizationFactor lanes (pure). Page "Using AWS Lambda with Amazon Kinesis": "Lambda can process
 * up to 10 batches in each shard simultaneously [...] Lambda still ensures in-order processing at the
 * partition-key level." Each partition key is hashed to one of N lanes; a lane runs one batch at a
 * time, so records of one key never overlap and keep their order.
 */
import { createHash } from 'node:crypto';

export function laneOf(partitionKey: string, parallelizationFactor: number): number {
  if (parallelizationFactor <= 1) return 0;
  // MD5, as Kinesis maps partition keys to hash keys; the first 4 bytes pick the lane.
  return createHash('md5').update(partitionKey, 'utf8').digest().readUInt32BE(0) % parallelizationFactor;
}

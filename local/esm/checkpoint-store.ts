/**
 * Where a mapping keeps its per-shard progress between runs. On AWS an event source mapping keeps
 * its shard checkpoints across function deploys and restarts (page "Using AWS Lambda with Amazon
 * Kinesis", Enabled option: "Lambda keeps track of the last record processed and resumes processing
 * from that point"). The mapping works without a store (progress in memory only, lost on restart).
 */

/** Who a set of checkpoints belongs to. A re-created stream (same name and ARN) has another creation time. */
export interface MappingIdentity {
  consumerName: string;
  functionArn: string;
  streamName: string;
  streamArn: string;
  /** StreamCreationTimestamp of the stream (ISO-8601), from DescribeStreamSummary. */
  streamCreatedAt: string;
}

/** An open tumbling window as of the checkpoint: the state covers exactly the records up to it. */
export interface StoredWindow {
  startMs: number;
  endMs: number;
  state: unknown;
}

export interface StoredShardProgress {
  /** Every record up to and including this sequence number is done (processed, filtered or discarded). */
  checkpoint?: string;
  /** A closed shard read to its end with every record done: its children may start. */
  finished?: boolean;
  window?: StoredWindow;
}

export interface MappingProgress {
  /** When the mapping first started (ISO-8601): where a LATEST mapping resumes a shard that has no checkpoint yet. */
  firstStartedAt: string;
  shards: Record<string, StoredShardProgress>;
}

export interface CheckpointStore {
  /** The progress stored for this mapping, or undefined when there is none (or it belongs to another stream). */
  load(identity: MappingIdentity): Promise<MappingProgress | undefined>;
  /** Replace the stored progress of this mapping (atomically: a reader sees the old or the new progress). */
  save(identity: MappingIdentity, progress: MappingProgress): Promise<void>;
}

/** Raised when stored progress exists but cannot be read: resuming blindly would re-process or skip records. */
export class CheckpointStoreError extends Error {
  override readonly name = 'CheckpointStoreError';
}

export function sameMapping(a: MappingIdentity, b: MappingIdentity): boolean {
  return (
    a.consumerName === b.consumerName &&
    a.functionArn === b.functionArn &&
    a.streamName === b.streamName &&
    a.streamArn === b.streamArn &&
    a.streamCreatedAt === b.streamCreatedAt
  );
}

/** Progress kept in this process only (tests, or several mappings restarted inside one process). */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly entries: Array<{ identity: MappingIdentity; json: string }> = [];
  saves = 0;

  async load(identity: MappingIdentity): Promise<MappingProgress | undefined> {
    const entry = this.entries.find((e) => sameMapping(e.identity, identity));
    return entry === undefined ? undefined : (JSON.parse(entry.json) as MappingProgress);
  }

  async save(identity: MappingIdentity, progress: MappingProgress): Promise<void> {
    this.saves++;
    const json = JSON.stringify(progress);
    const entry = this.entries.find((e) => sameMapping(e.identity, identity));
    if (entry !== undefined) entry.json = json;
    else this.entries.push({ identity: { ...identity }, json });
  }
}

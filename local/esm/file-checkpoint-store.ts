/**
 * Checkpoints on disk, one JSON file per mapping: `<dir>/<pipeline>/<consumer>.<stream>.json`
 * holding the mapping's identity and its per-shard progress. Written atomically (temp file, fsync,
 * rename), so a crash leaves the previous or the new progress, never half a file.
 *
 * - No file: no progress (the mapping starts from its starting position).
 * - A file of another stream (re-created: other ARN or creation time) or another function: ignored
 *   with a warning and replaced on the next save.
 * - A file that cannot be read or parsed: CheckpointStoreError naming the file. Resuming from the
 *   starting position instead would silently process everything again (or skip it, with LATEST).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import type { Logger } from '../../telemetry/logger';
import { writeJsonFileAtomically } from './atomic-json-file';
import { CheckpointStoreError, sameMapping, type CheckpointStore, type MappingIdentity, type MappingProgress } from './checkpoint-store';

const FORMAT_VERSION = 1;

const identitySchema = z.object({
  consumerName: z.string(),
  functionArn: z.string(),
  streamName: z.string(),
  streamArn: z.string(),
  streamCreatedAt: z.string(),
});

const fileSchema = z.object({
  version: z.literal(FORMAT_VERSION),
  pipeline: z.string(),
  identity: identitySchema,
  updatedAt: z.string(),
  progress: z.object({
    firstStartedAt: z.string(),
    shards: z.record(
      z.string(),
      z.object({
        checkpoint: z.string().regex(/^(0|[1-9]\d{0,128})$/).optional(),
        finished: z.boolean().optional(),
        window: z.object({ startMs: z.number(), endMs: z.number(), state: z.unknown() }).optional(),
      }),
    ),
  }),
});

export interface FileCheckpointStoreOptions {
  /** Folder of all checkpoint files (the local runner uses `<data-dir>/checkpoints`). */
  dir: string;
  /** Pipeline name: part of the mapping's identity and of the file path. */
  pipeline: string;
  logger?: Logger;
}

export class FileCheckpointStore implements CheckpointStore {
  constructor(private readonly options: FileCheckpointStoreOptions) {}

  /** The file of one mapping. */
  pathOf(identity: Pick<MappingIdentity, 'consumerName' | 'streamName'>): string {
    const safe = (name: string) => encodeURIComponent(name);
    return join(this.options.dir, safe(this.options.pipeline), `${safe(identity.consumerName)}.${safe(identity.streamName)}.json`);
  }

  async load(identity: MappingIdentity): Promise<MappingProgress | undefined> {
    const path = this.pathOf(identity);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CheckpointStoreError(`cannot read the checkpoint file ${path}: ${(error as Error).message}`, { cause: error });
    }
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch (error) {
      const detail = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
      throw new CheckpointStoreError(
        `the checkpoint file ${path} is not valid (${detail.replace(/\s+/g, ' ')}); fix it, or delete it to start ` +
          `the mapping of ${identity.consumerName} again from its starting position (records already processed would be processed again)`,
        { cause: error },
      );
    }
    if (parsed.pipeline !== this.options.pipeline || !sameMapping(parsed.identity, identity)) {
      this.options.logger?.warn(
        { path, stored: parsed.identity, current: identity },
        'stored checkpoints belong to another stream or function (re-created?): ignored, the mapping starts from its starting position',
      );
      return undefined;
    }
    return parsed.progress as MappingProgress;
  }

  async save(identity: MappingIdentity, progress: MappingProgress): Promise<void> {
    const path = this.pathOf(identity);
    await mkdir(dirname(path), { recursive: true });
    const body = { version: FORMAT_VERSION, pipeline: this.options.pipeline, identity, updatedAt: new Date().toISOString(), progress };
    await writeJsonFileAtomically(path, body);
  }
}

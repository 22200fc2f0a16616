/**
 * Quarantine into an NDJSON file (one QuarantineRecord per line): the local runner's durable sink,
 * under LOCAL_DATA_DIR, read back by the ops CLI. Same record format as the SQS message bodies.
 */
import { join } from 'node:path';
import { appendWholeLines } from './append-whole-lines';
import { serializeQuarantineRecord, type QuarantineSink } from './quarantine';
import type { QuarantineRecord } from './types';

/** `<dataDir>/quarantine/<consumer>.ndjson`: where local quarantine files live. */
export function localQuarantineFile(dataDir: string, consumer: string): string {
  return join(dataDir, 'quarantine', `${consumer}.ndjson`);
}

/** Appends quarantine records to one NDJSON file (created with its folder on first write). */
export class FileQuarantineSink implements QuarantineSink {
  constructor(readonly path: string) {}

  async write(records: readonly QuarantineRecord[]): Promise<readonly number[]> {
    if (records.length === 0) return [];
    // One append per batch (O_APPEND: concurrent writers do not interleave lines); a failed append leaves no torn line.
    await appendWholeLines(this.path, records.map((r) => `${serializeQuarantineRecord(r)}\n`).join(''));
    return [];
  }
}

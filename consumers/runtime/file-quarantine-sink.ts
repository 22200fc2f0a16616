/**
 * Quarantine into an NDJSON file (one QuarantineRecord per line): the local runner's durable sink,
 * under LOCAL_DATA_DIR, read back by the ops CLI. Same record format as the SQS message bodies.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { serializeQuarantineRecord, type QuarantineSink } from './quarantine';
import type { QuarantineRecord } from './types';

/** `<dataDir>/quarantine/<consumer>.ndjson`: where local quarantine files live. */
export function localQuarantineFile(dataDir: string, consumer: string): string {
  return join(dataDir, 'quarantine', `${consumer}.ndjson`);
}

/** Appends quarantine records to one NDJSON file (created with its folder on first write). */
export class FileQuarantineSink implements QuarantineSink {
  private ready: Promise<unknown> | undefined;

  constructor(readonly path: string) {}

  async write(records: readonly QuarantineRecord[]): Promise<readonly number[]> {
    if (records.length === 0) return [];
    this.ready ??= mkdir(dirname(this.path), { recursive: true });
    await this.ready;
    // One append call per batch: lines are written whole (O_APPEND), so concurrent writers do not interleave lines.
    await appendFile(this.path, records.map((r) => `${serializeQuarantineRecord(r)}\n`).join(''), 'utf8');
    return [];
  }
}

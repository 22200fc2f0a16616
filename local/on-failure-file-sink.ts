/**
 * The local on-failure destination of a consumer: one AWS-shaped on-failure record per line in
 * `<dataDir>/on-failure/<consumer>.ndjson` (on AWS, the consumer's SQS queue gets the same JSON).
 */
import type { OnFailureRecord, OnFailureSink } from './esm/types';
import { NdjsonFile } from './ndjson-file';

export class OnFailureFileSink implements OnFailureSink {
  private readonly file: NdjsonFile;
  private readonly listeners: ((record: OnFailureRecord) => void)[] = [];
  written = 0;

  constructor(path: string) {
    this.file = new NdjsonFile(path);
  }

  get path(): string {
    return this.file.path;
  }

  /** Called after each record is on disk (the runner's accounting listens). */
  onWrite(listener: (record: OnFailureRecord) => void): void {
    this.listeners.push(listener);
  }

  /** Resolves when every record written so far is on disk. */
  flush(): Promise<void> {
    return this.file.flush();
  }

  async write(record: OnFailureRecord): Promise<void> {
    await this.file.append(record);
    this.written += 1;
    for (const listener of this.listeners) listener(record);
  }
}

/**
 * The synthetic upstream of `npm start`: order events from the fixture generator, written with the
 * project's KinesisProducer at a steady rate, a small fraction of them invalid on purpose (written
 * raw, unvalidated) so quarantine has something to show. Every durably written record is reported
 * with its shard and sequence number, for the run's accounting.
 */
import { createFixtures, type FixtureGenerator } from '../schemas/fixtures';
import { mulberry32 } from '../schemas/seeded-random';
import type { KinesisProducer, PutResult } from '../producers/index';

export interface ProducedEvent {
  stream: string;
  eventId: string;
  valid: boolean;
  invalidKind?: string;
  shardId: string;
  sequenceNumber: string;
  /** The JSON value written (the accounting applies consumers' record filters to it). */
  value: unknown;
}

export interface SyntheticUpstreamOptions {
  stream: string;
  producer: Pick<KinesisProducer, 'put' | 'putRecord' | 'flush' | 'close'>;
  /** Events per second. */
  rate: number;
  /** Fraction (0..1) of events that break their contract. */
  invalidFraction: number;
  /** Stop after this many events (default: no limit). */
  maxEvents?: number;
  seed?: number;
  onProduced(event: ProducedEvent): void;
  /** A put the producer gave up on (retries exhausted): never written, so not part of the accounting. */
  onFailed?(error: Error, valid: boolean): void;
}

/** Events the upstream may have outstanding before it skips a tick (bounded memory under backpressure). */
const MAX_OUTSTANDING = 10_000;
const TICK_MS = 50;

/** The seed of a run without --seed: from the clock (recorded by the runner so the run can be replayed). */
export function timeBasedSeed(): number {
  return Date.now() % 2 ** 31;
}

export class SyntheticUpstream {
  private readonly fixtures: FixtureGenerator;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private issued = 0;
  private readonly outstanding = new Set<Promise<void>>();
  readonly counters = { attempted: 0, produced: 0, producedValid: 0, producedInvalid: 0, failed: 0 };

  constructor(private readonly options: SyntheticUpstreamOptions) {
    const seed = options.seed ?? timeBasedSeed();
    this.fixtures = createFixtures({ seed, startTime: Date.now(), source: 'local-runner' });
    this.random = mulberry32(seed ^ 0x5bd1e995);
  }

  get finished(): boolean {
    return this.options.maxEvents !== undefined && this.issued >= this.options.maxEvents;
  }

  start(): void {
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  private tick(): void {
    const elapsed = (performance.now() - this.startedAt) / 1000;
    let due = Math.floor(elapsed * this.options.rate) - this.issued;
    if (this.options.maxEvents !== undefined) due = Math.min(due, this.options.maxEvents - this.issued);
    for (let i = 0; i < due && this.outstanding.size < MAX_OUTSTANDING; i++) this.produceOne();
    if (this.finished && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private produceOne(): void {
    this.issued += 1;
    this.counters.attempted += 1;
    const invalid = this.random() < this.options.invalidFraction;
    let put: Promise<PutResult>;
    let eventId: string;
    let invalidKind: string | undefined;
    let written: unknown;
    if (invalid) {
      const fixture = this.fixtures.invalid();
      const value = fixture.value as { id?: unknown; data?: { orderId?: unknown } };
      eventId = typeof value.id === 'string' ? value.id : `invalid-${this.issued}`;
      invalidKind = fixture.kind;
      const partitionKey = typeof value.data?.orderId === 'string' ? value.data.orderId : eventId;
      written = fixture.value;
      put = this.options.producer.putRecord({ partitionKey, data: JSON.stringify(fixture.value) });
    } else {
      const event = this.fixtures.next();
      eventId = event.id;
      written = event;
      put = this.options.producer.put(event);
    }
    const tracked: Promise<void> = put.then(
      (result) => {
        this.counters.produced += 1;
        if (invalid) this.counters.producedInvalid += 1;
        else this.counters.producedValid += 1;
        this.options.onProduced({
          stream: this.options.stream,
          eventId,
          valid: !invalid,
          ...(invalidKind !== undefined ? { invalidKind } : {}),
          shardId: result.shardId,
          sequenceNumber: result.sequenceNumber,
          value: written,
        });
      },
      (error: unknown) => {
        this.counters.failed += 1;
        this.options.onFailed?.(error instanceof Error ? error : new Error(String(error)), !invalid);
      },
    );
    this.outstanding.add(tracked);
    void tracked.finally(() => this.outstanding.delete(tracked));
  }

  /** Stop producing; resolves when every put is written or failed and the producer is closed. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.options.producer.flush();
    await Promise.all([...this.outstanding]);
    await this.options.producer.close();
  }
}

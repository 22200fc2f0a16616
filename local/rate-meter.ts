/** Per-second rates of monotonically increasing counters, over a sliding window of samples. */
export class RateMeter {
  private readonly samples: { at: number; values: Map<string, number> }[] = [];

  constructor(private readonly windowMs = 5_000) {}

  sample(values: Map<string, number>, at = performance.now()): void {
    this.samples.push({ at, values });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  /** Events per second of counter `key` over the window (0 until two samples exist). */
  rate(key: string): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const seconds = (last.at - first.at) / 1000;
    if (seconds <= 0) return 0;
    return Math.max(0, ((last.values.get(key) ?? 0) - (first.values.get(key) ?? 0)) / seconds);
  }
}

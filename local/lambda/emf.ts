/**
 * Reads CloudWatch Embedded Metric Format documents out of function log lines (the EMF
 * specification: a JSON object with `_aws.CloudWatchMetrics[].Metrics[].Name`, each metric's
 * value — a number or an array of numbers — at the root under its name), and sums them.
 */

interface EmfDirective {
  Namespace?: unknown;
  Metrics?: unknown;
}

/** The metric values of one EMF line, or undefined when the line is not an EMF document. */
export function parseEmfLine(line: string): Map<string, number> | undefined {
  if (!line.startsWith('{') || !line.includes('"_aws"')) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const aws = doc['_aws'] as { CloudWatchMetrics?: unknown } | undefined;
  if (!aws || !Array.isArray(aws.CloudWatchMetrics)) return undefined;
  const values = new Map<string, number>();
  for (const directive of aws.CloudWatchMetrics as EmfDirective[]) {
    if (!Array.isArray(directive.Metrics)) continue;
    for (const metric of directive.Metrics as { Name?: unknown }[]) {
      if (typeof metric.Name !== 'string' || values.has(metric.Name)) continue;
      const raw = doc[metric.Name];
      const sum = Array.isArray(raw)
        ? raw.reduce<number>((total, v) => total + (typeof v === 'number' ? v : 0), 0)
        : typeof raw === 'number'
          ? raw
          : 0;
      values.set(metric.Name, sum);
    }
  }
  return values;
}

/** Running totals of every EMF metric a function emitted. */
export class EmfTotals {
  private readonly totals = new Map<string, number>();
  documents = 0;

  /** Returns true when the line was an EMF document. */
  observe(line: string): boolean {
    const values = parseEmfLine(line);
    if (!values) return false;
    this.documents += 1;
    for (const [name, value] of values) this.totals.set(name, (this.totals.get(name) ?? 0) + value);
    return true;
  }

  get(name: string): number {
    return this.totals.get(name) ?? 0;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.totals);
  }
}

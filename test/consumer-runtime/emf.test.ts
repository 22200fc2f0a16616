/**
 * Rule 11: the runtime's EMF output checked against the structure of CloudWatch's
 * "Specification: Embedded metric format" (checker written from the spec, independent of telemetry/emf.ts).
 */
import { describe, expect, it } from 'vitest';
import { InMemoryQuarantineSink, createKinesisHandler } from '../../consumers/runtime/index';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { createEmfDocument } from '../../telemetry/emf';
import { LogCapture, kinesisEvent, lambdaContext } from './helpers';

const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits',
  'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second',
  'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second',
  'Terabits/Second', 'Count/Second', 'None',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every violation of the EMF document structure, as readable strings. */
function emfViolations(line: string): string[] {
  const problems: string[] = [];
  if (line.includes('\n') && !line.endsWith('\n')) problems.push('a document must be one line');
  let root: unknown;
  try {
    root = JSON.parse(line);
  } catch {
    return ['not JSON'];
  }
  if (!isObject(root)) return ['root must be a JSON object'];
  const meta = root['_aws'];
  if (!isObject(meta)) return ['_aws metadata object missing'];
  for (const key of Object.keys(meta)) if (!['Timestamp', 'CloudWatchMetrics', 'LogGroupName'].includes(key)) problems.push(`_aws has unknown member ${key}`);
  if (typeof meta['Timestamp'] !== 'number' || !Number.isInteger(meta['Timestamp']) || (meta['Timestamp'] as number) < 1e12) {
    problems.push('_aws.Timestamp must be an integer of milliseconds since the epoch');
  }
  const directives = meta['CloudWatchMetrics'];
  if (!Array.isArray(directives)) return [...problems, '_aws.CloudWatchMetrics must be an array'];
  for (const d of directives) {
    if (!isObject(d)) {
      problems.push('a MetricDirective must be an object');
      continue;
    }
    for (const key of Object.keys(d)) if (!['Namespace', 'Dimensions', 'Metrics'].includes(key)) problems.push(`MetricDirective has unknown member ${key}`);
    if (typeof d['Namespace'] !== 'string' || d['Namespace'].length < 1 || d['Namespace'].length > 255) problems.push('Namespace must be a 1-255 character string');
    if (!Array.isArray(d['Dimensions'])) problems.push('Dimensions must be an array of DimensionSets');
    else {
      for (const set of d['Dimensions']) {
        if (!Array.isArray(set)) problems.push('a DimensionSet must be an array');
        else {
          if (set.length > 30) problems.push('a DimensionSet may hold at most 30 dimensions');
          for (const name of set) {
            if (typeof name !== 'string') problems.push('dimension names must be strings');
            else if (typeof root[name] !== 'string') problems.push(`dimension ${name} must be a string member of the root`);
          }
        }
      }
    }
    if (!Array.isArray(d['Metrics'])) problems.push('Metrics must be an array');
    else {
      if (d['Metrics'].length > 100) problems.push('at most 100 metrics per directive');
      for (const m of d['Metrics']) {
        if (!isObject(m)) {
          problems.push('a MetricDefinition must be an object');
          continue;
        }
        for (const key of Object.keys(m)) if (!['Name', 'Unit', 'StorageResolution'].includes(key)) problems.push(`MetricDefinition has unknown member ${key}`);
        const name = m['Name'];
        if (typeof name !== 'string' || name.length === 0) problems.push('metric Name must be a non-empty string');
        if (m['Unit'] !== undefined && !UNITS.has(m['Unit'] as string)) problems.push(`Unit ${String(m['Unit'])} is not a CloudWatch unit`);
        if (m['StorageResolution'] !== undefined && m['StorageResolution'] !== 1 && m['StorageResolution'] !== 60) problems.push('StorageResolution must be 1 or 60');
        const value = typeof name === 'string' ? root[name] : undefined;
        const ok =
          (typeof value === 'number' && Number.isFinite(value)) ||
          (Array.isArray(value) && value.length <= 100 && value.every((v) => typeof v === 'number' && Number.isFinite(v)));
        if (!ok) problems.push(`metric ${String(name)} must have a number (or array of <= 100 numbers) at the root`);
      }
    }
  }
  return problems;
}

describe('rule 11: EMF document structure', () => {
  it("the runtime's document satisfies the EMF specification", async () => {
    const lines: string[] = [];
    const f = createFixtures({ seed: 5 });
    const handler = createKinesisHandler<OrderEvent>({
      consumerName: 'emf-check',
      registry,
      quarantine: new InMemoryQuarantineSink(),
      logDestination: new LogCapture(),
      metrics: { namespace: 'Orders/Consumers', dimensions: { Stage: 'dev' }, writer: (l) => lines.push(l) },
      handlers: { 'order.paid': () => undefined },
    });
    await handler(kinesisEvent([f.orderPaid(), 'junk']), lambdaContext());
    await handler(kinesisEvent([]), lambdaContext());
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(emfViolations(line)).toEqual([]);
    const doc = JSON.parse(lines[0]!) as Record<string, unknown>;
    const directive = (doc['_aws'] as { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics[0]!;
    expect(directive.Metrics.map((m) => m.Name).sort()).toEqual(
      ['BatchDurationMs', 'DuplicatesSkipped', 'MaxRecordAgeMs', 'RecordsFiltered', 'RecordsProcessed', 'RecordsQuarantined', 'RecordsReceived', 'RecordsRetried'].sort(),
    );
    expect(directive.Metrics.find((m) => m.Name === 'MaxRecordAgeMs')!.Unit).toBe('Milliseconds');
    expect(directive.Metrics.find((m) => m.Name === 'RecordsReceived')!.Unit).toBe('Count');
  });

  it('the checker catches broken documents (it can fail)', () => {
    expect(emfViolations('{"_aws":{"Timestamp":"now","CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["D"]],"Metrics":[{"Name":"M","Unit":"Furlongs"}]}]}}')).toEqual([
      '_aws.Timestamp must be an integer of milliseconds since the epoch',
      'dimension D must be a string member of the root',
      'Unit Furlongs is not a CloudWatch unit',
      'metric M must have a number (or array of <= 100 numbers) at the root',
    ]);
  });

  it('createEmfDocument rejects what the spec forbids', () => {
    const base = { namespace: 'N', dimensions: { A: 'a' }, metrics: [{ name: 'M', unit: 'Count' as const, value: 1 }] };
    expect(emfViolations(JSON.stringify(createEmfDocument(base)))).toEqual([]);
    const many = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`D${i}`, 'x']));
    expect(() => createEmfDocument({ ...base, dimensions: many })).toThrow(/30 dimensions/);
    expect(() => createEmfDocument({ ...base, metrics: [{ name: 'A', unit: 'Count', value: 1 }] })).toThrow(/used twice/);
    expect(() => createEmfDocument({ ...base, metrics: [{ name: 'M', unit: 'Count', value: Number.NaN }] })).toThrow(/finite/);
    expect(() => createEmfDocument({ ...base, metrics: [{ name: 'M', unit: 'Count', value: Array.from({ length: 101 }, () => 1) }] })).toThrow(/100 values/);
  });
});

/** One line per event for `tail`: readable, or JSON for machines. */
import type { InspectedEvent } from '../decode/record-inspector';

export function formatEventLine(event: InspectedEvent): string {
  const sub = event.subSequenceNumber !== undefined ? `#${event.subSequenceNumber}` : '';
  const type = event.type !== undefined ? `${event.type}${event.version !== undefined ? ` v${event.version}` : ''}` : '-';
  const verdict = event.valid ? 'valid' : `INVALID ${event.failureKind ?? ''}: ${event.reason ?? ''}`.replace(' :', ':');
  return `${event.arrivalTime.toISOString()} ${event.shardId} ${event.sequenceNumber}${sub} key=${event.partitionKey} ${type} ${verdict}`;
}

export function eventJson(event: InspectedEvent): string {
  return JSON.stringify({
    time: event.arrivalTime.toISOString(),
    shardId: event.shardId,
    sequenceNumber: event.sequenceNumber,
    ...(event.subSequenceNumber !== undefined ? { subSequenceNumber: event.subSequenceNumber } : {}),
    partitionKey: event.partitionKey,
    id: event.id,
    type: event.type,
    version: event.version,
    valid: event.valid,
    ...(event.valid ? {} : { failureKind: event.failureKind, reason: event.reason }),
  });
}

/** `--filter field=value`: type, key, shard or valid; several values of one field match any of them. */
export type EventFilter = (event: InspectedEvent) => boolean;

export function parseFilters(specs: readonly string[]): EventFilter {
  const byField = new Map<string, Set<string>>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const field = eq > 0 ? spec.slice(0, eq) : '';
    if (!['type', 'key', 'shard', 'valid'].includes(field)) {
      throw new Error(`--filter "${spec}": expected type=..., key=..., shard=... or valid=true|false`);
    }
    const value = spec.slice(eq + 1);
    if (field === 'valid' && value !== 'true' && value !== 'false') throw new Error(`--filter "${spec}": valid must be true or false`);
    let values = byField.get(field);
    if (!values) byField.set(field, (values = new Set()));
    values.add(value);
  }
  const field = (event: InspectedEvent, name: string): string | undefined =>
    name === 'type' ? event.type : name === 'key' ? event.partitionKey : name === 'shard' ? event.shardId : String(event.valid);
  return (event) => [...byField].every(([name, values]) => {
    const v = field(event, name);
    return v !== undefined && values.has(v);
  });
}

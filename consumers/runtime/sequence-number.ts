/**
 * Kinesis sequence numbers are decimal strings of up to 128 bits ("greater for later records" within
 * a shard, Kinesis API reference, Record.SequenceNumber): compare by length, then lexically.
 */
/** Negative when `a` comes before `b` in the shard, 0 when equal, positive after. */
export function compareSequenceNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

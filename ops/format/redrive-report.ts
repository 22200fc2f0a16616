/** Human-readable lines for redrive results (one per on-failure / quarantine record, then a summary). */
import type { UnrecoverablePart } from '../aws/shard-range-reader';
import type { QuarantineItemReport, QuarantineRedriveSummary } from '../redrive/redrive-quarantine';
import type { RedriveItemReport, RedriveSummary } from '../redrive/redrive-on-failure';

export function formatUnrecoverable(shardId: string, part: UnrecoverablePart): string {
  const to = part.toInclusive ? `${part.toSequenceNumber}` : `before ${part.toSequenceNumber}`;
  const count = part.count !== undefined ? `${part.count} record(s)` : 'count unknown';
  return `  UNRECOVERABLE ${part.reason} ${shardId} ${part.fromSequenceNumber} .. ${to} (${count}): ${part.message}`;
}

export function formatRedriveItem(report: RedriveItemReport): string[] {
  const b = report.batch;
  const where = b ? `${b.shardId} ${b.startSequenceNumber}..${b.endSequenceNumber}` : '';
  const size = b?.batchSize !== undefined ? `/${b.batchSize}` : '';
  const lines = [
    `${report.status.toUpperCase().padEnd(20)} ${report.id} ${where} read ${report.recordsRead}${size} (${report.getRecordsCalls} GetRecords), redriven ${report.recordsRedriven}${report.recordsFiltered ? ` (${report.recordsFiltered} dropped by the mapping's filter)` : ''}${report.recordsAlreadyDone !== undefined ? `, ${report.recordsAlreadyDone} already done` : ''}: ${report.detail}`,
  ];
  if (report.alreadyDoneCheckError !== undefined) {
    lines.push(`  already-done check failed (${report.alreadyDoneCheckError}): every record sent; the consumer's own claims skip what took effect`);
  }
  for (const attempt of report.attempts ?? []) {
    lines.push(`  invoke ${attempt.records} record(s) from ${attempt.firstSequenceNumber}: ${attempt.verdict}`);
  }
  for (const part of report.unrecoverable) lines.push(formatUnrecoverable(b?.shardId ?? '?', part));
  return lines;
}

export function formatRedriveSummary(summary: RedriveSummary, dryRun: boolean): string {
  return `${dryRun ? 'dry run: ' : ''}${summary.items.length} on-failure record(s): ${summary.removed} redriven and removed, ${summary.kept} kept; ${summary.recordsRedriven} record(s) redriven, ${summary.recordsAlreadyDone} already done, ${summary.recordsUnrecoverable} known unrecoverable`;
}

export function formatQuarantineItem(report: QuarantineItemReport): string {
  const what = [report.type, report.eventId, report.partitionKey && `key=${report.partitionKey}`, report.sequenceNumber && `seq=${report.sequenceNumber}`]
    .filter(Boolean)
    .join(' ');
  return `${report.status.toUpperCase().padEnd(14)} ${report.id} ${what} (was ${report.originalReason ?? 'unknown'}): ${report.detail}`;
}

export function formatQuarantineSummary(summary: QuarantineRedriveSummary, dryRun: boolean): string {
  return `${dryRun ? 'dry run: ' : ''}${summary.items.length} quarantined record(s): ${summary.reput} re-put and removed, ${summary.kept} kept`;
}

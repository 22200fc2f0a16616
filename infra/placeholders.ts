/**
 * Placeholder values a stage file ships with (documentation account ids, reserved e-mail domains,
 * state buckets named after them). Synth and the tests work with them; a deploy must not:
 * `npm run deploy` refuses before Terraform runs, and the synthesized stack carries a guard that
 * fails `terraform plan` (see PipelineStack) for whoever runs cdktf or Terraform directly.
 */
import type { StageConfig } from './stage-config';

/** Account ids that are never real: one digit repeated, or the documentation id 123456789012. */
export function isPlaceholderAccount(account: string): boolean {
  return /^(\d)\1{11}$/.test(account) || account === '123456789012';
}

/**
 * Domains reserved for documentation and testing (RFC 2606 and RFC 6761): mail sent there never
 * reaches anyone, so an alarm subscription to it means nobody is woken.
 */
export function isPlaceholderEmail(email: string): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return /(^|\.)example\.(com|net|org)$/.test(domain) || /\.(example|test|invalid|localhost)$/.test(domain) || domain === 'localhost';
}

/** A bucket name carrying a placeholder account id, or saying it is one. */
export function isPlaceholderBucket(bucket: string): boolean {
  return (bucket.match(/\d{12}/g) ?? []).some(isPlaceholderAccount) || /(^|[.-])(example|placeholder|changeme|replace-me)([.-]|$)/.test(bucket);
}

/** Every placeholder of a stage, as `field: value (why)` lines naming what to replace. */
export function placeholderFindings(stage: StageConfig): string[] {
  const findings: string[] = [];
  if (isPlaceholderAccount(stage.account)) findings.push(`account: ${stage.account} is a placeholder account id (put the stage's AWS account id)`);
  if (stage.alarmEmail !== undefined && isPlaceholderEmail(stage.alarmEmail)) {
    findings.push(`alarmEmail: ${stage.alarmEmail} is at a reserved domain nobody reads (put your on-call address)`);
  }
  if (isPlaceholderBucket(stage.backend.bucket)) {
    findings.push(`backend.bucket: ${stage.backend.bucket} is a placeholder state bucket (create yours, versioned, and put its name)`);
  }
  return findings;
}

/** The message a deploy of a stage with placeholders stops with. */
export function placeholderMessage(stage: StageConfig, findings: readonly string[]): string {
  return (
    `stage ${stage.stage} still has placeholder values; edit stages/${stage.stage}.json before deploying:\n` +
    findings.map((f) => `  ${f}`).join('\n')
  );
}

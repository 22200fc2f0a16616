/**
 * A consumer's publish ledger (definition option `publishLedger`): a lease table (./lease-table.ts)
 * whose items are window keys (stream ARN, shard, times). A lost table forgets which windows were
 * published, so a redrive would publish them again.
 */
import type { PolicyStatement } from '../policy-document';
import { LeaseTable, type LeaseTableProps } from './lease-table';

/** Table name `<pipeline>-<stage>-<consumer>-publish-ledger`. */
export type PublishLedgerTableProps = LeaseTableProps;

export class PublishLedgerTable extends LeaseTable {
  /**
   * Claim and complete (conditional PutItem), read a claim that could not be taken (GetItem: completed,
   * or held by another invocation), release (DeleteItem): nothing else, on this table only.
   */
  claimStatement(): PolicyStatement {
    return this.statement('ClaimInOwnPublishLedger', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']);
  }
}

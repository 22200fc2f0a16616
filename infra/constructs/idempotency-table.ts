/**
 * A consumer's idempotency table (definition option `idempotencyTable`): a lease table
 * (./lease-table.ts, the contract in pipeline/idempotency-table.ts) where the consumer runtime keeps
 * event claims and per-record attempt counters (consumers/runtime/dynamodb-durable-store.ts). A lost
 * table forgets which events took effect, so a redrive would repeat them.
 */
import type { PolicyStatement } from '../policy-document';
import { LeaseTable, type LeaseTableProps } from './lease-table';

/** Table name `<pipeline>-<stage>-<consumer>-idempotency`. */
export type IdempotencyTableProps = LeaseTableProps;

export class IdempotencyTable extends LeaseTable {
  /**
   * Claim and complete (conditional PutItem), read a claim that could not be taken and the COMPLETED
   * check of a redrive (GetItem), count a failed delivery (conditional UpdateItem), release (DeleteItem):
   * nothing else, on this table only.
   */
  claimStatement(): PolicyStatement {
    return this.statement('ClaimInOwnIdempotencyTable', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']);
  }
}

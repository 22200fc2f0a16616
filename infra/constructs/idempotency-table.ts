/**
 * The idempotency table of a consumer or a plain function (definition option `idempotencyTable`): a
 * lease table (./lease-table.ts, the contract in pipeline/idempotency-table.ts). A consumer's runtime
 * keeps event claims and per-record attempt counters in it (consumers/runtime/dynamodb-durable-store.ts);
 * a plain function keeps the claims of its asynchronous invocations. A lost table forgets which events
 * took effect, so a redrive would repeat them.
 */
import type { PolicyStatement } from '../policy-document';
import { LeaseTable, type LeaseTableProps } from './lease-table';

/** Table name `<pipeline>-<stage>-<consumer or function>-idempotency`. */
export type IdempotencyTableProps = LeaseTableProps;

export class IdempotencyTable extends LeaseTable {
  /**
   * A consumer's: claim and complete (conditional PutItem), read a claim that could not be taken and the
   * COMPLETED check of a redrive (GetItem), count a failed delivery (conditional UpdateItem), release
   * (DeleteItem): nothing else, on this table only.
   */
  claimStatement(): PolicyStatement {
    return this.statement('ClaimInOwnIdempotencyTable', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']);
  }

  /**
   * A plain function's: claim and complete an invocation's key (conditional PutItem), read a claim that
   * could not be taken (GetItem), release it after a failed effect (DeleteItem). No UpdateItem: a plain
   * function keeps no attempt counters (Lambda itself retries a failed asynchronous invocation).
   */
  eventClaimStatement(): PolicyStatement {
    return this.statement('ClaimEventsInOwnIdempotencyTable', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']);
  }
}

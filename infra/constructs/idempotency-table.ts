/**
 * A consumer's idempotency table (definition option `idempotencyTable`): one DynamoDB table,
 * on-demand, partition key `ledgerKey` (String), expired by TTL on `expiresAt` (the contract in
 * pipeline/idempotency-table.ts, the publish ledger's shape), and the one statement its function
 * needs on it. The consumer runtime keeps event claims and per-record attempt counters there
 * (consumers/runtime/dynamodb-durable-store.ts).
 *
 * Encryption at rest is DynamoDB's default (an AWS owned key): items hold event ids, stream
 * locations and error signatures (`<error name>: <message>`), no event data. In a protected stage
 * (`protectStatefulResources`) the table has deletion protection, point-in-time recovery and
 * `prevent_destroy`: a lost table forgets which events took effect, so a redrive would repeat them.
 */
import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { LEDGER_EXPIRY_ATTRIBUTE, LEDGER_KEY_ATTRIBUTE } from '../../pipeline/publish-ledger-table';
import type { PolicyStatement } from '../policy-document';

export interface IdempotencyTableProps {
  /** Table name, `<pipeline>-<stage>-<consumer>-idempotency`. */
  name: string;
  /**
   * Deletion protection, point-in-time recovery and `prevent_destroy` (stage `protectStatefulResources`):
   * a lost table forgets which events took effect, so a redrive would apply them again.
   */
  protect: boolean;
}

export class IdempotencyTable extends Construct {
  readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: IdempotencyTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, 'table', {
      name: props.name,
      // Two small writes per record, following the stream's traffic: pay per request.
      billingMode: 'PAY_PER_REQUEST',
      hashKey: LEDGER_KEY_ATTRIBUTE,
      attribute: [{ name: LEDGER_KEY_ATTRIBUTE, type: 'S' }],
      // DynamoDB Developer Guide, "Time to Live": the attribute holds epoch seconds (Number).
      ttl: { attributeName: LEDGER_EXPIRY_ATTRIBUTE, enabled: true },
      deletionProtectionEnabled: props.protect,
      pointInTimeRecovery: { enabled: props.protect },
      lifecycle: { preventDestroy: props.protect },
    });
  }

  /**
   * Claim and complete (conditional PutItem), read a claim that could not be taken and the COMPLETED
   * check of a redrive (GetItem), count a failed delivery (conditional UpdateItem), release (DeleteItem):
   * nothing else, on this table only.
   */
  claimStatement(): PolicyStatement {
    return {
      Sid: 'ClaimInOwnIdempotencyTable',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      Resource: this.table.arn,
    };
  }
}

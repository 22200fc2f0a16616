/**
 * The DynamoDB table shape both lease ledgers use (the publish ledger and the idempotency table): on
 * demand, partition key `ledgerKey` (String), expired by TTL on `expiresAt` (the contract in
 * pipeline/publish-ledger-table.ts). In a protected stage (`protectStatefulResources`) the table has
 * deletion protection, point-in-time recovery and `prevent_destroy`: a lost ledger forgets which
 * effects were applied, so a redrive would apply them again.
 *
 * Encryption at rest is DynamoDB's default (an AWS owned key): ledger items hold keys, stream locations
 * and error signatures, no event data.
 */
import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { LEDGER_EXPIRY_ATTRIBUTE, LEDGER_KEY_ATTRIBUTE } from '../../pipeline/publish-ledger-table';
import type { PolicyStatement } from '../policy-document';

export interface LeaseTableProps {
  /** Table name, `<pipeline>-<stage>-<consumer>-<ledger>`. */
  name: string;
  /** Deletion protection, point-in-time recovery and `prevent_destroy` (stage `protectStatefulResources`). */
  protect: boolean;
}

export class LeaseTable extends Construct {
  readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: LeaseTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, 'table', {
      name: props.name,
      // Small writes that follow the stream's traffic or come in bursts at window ends: pay per request.
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

  /** The one statement its function needs: exactly these actions, on this table only. */
  protected statement(sid: string, actions: readonly string[]): PolicyStatement {
    return { Sid: sid, Effect: 'Allow', Action: [...actions], Resource: this.table.arn };
  }
}

/**
 * A consumer's publish ledger (definition option `publishLedger`): one DynamoDB table, on-demand,
 * partition key `ledgerKey` (String), expired by TTL on `expiresAt` (see pipeline/publish-ledger-table.ts,
 * the contract the consumer code writes to), and the one statement its function needs on it.
 *
 * Encryption at rest is DynamoDB's default (an AWS owned key): the items hold window keys (stream ARN,
 * shard, times) and no event data. In a protected stage (`protectStatefulResources`) the table has
 * deletion protection, point-in-time recovery and `prevent_destroy`: a lost table forgets which windows
 * were published, so a redrive would publish them again.
 */
import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { LEDGER_EXPIRY_ATTRIBUTE, LEDGER_KEY_ATTRIBUTE } from '../../pipeline/publish-ledger-table';
import type { PolicyStatement } from '../policy-document';

export interface PublishLedgerTableProps {
  /** Table name, `<pipeline>-<stage>-<consumer>-publish-ledger`. */
  name: string;
  protect: boolean;
}

export class PublishLedgerTable extends Construct {
  readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: PublishLedgerTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, 'table', {
      name: props.name,
      // Claims come in bursts at window ends and are tiny: pay per request, nothing to provision.
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
   * Claim and complete (conditional PutItem), read a claim that could not be taken (GetItem: completed,
   * or held by another invocation), release (DeleteItem): nothing else, on this table only.
   */
  claimStatement(): PolicyStatement {
    return {
      Sid: 'ClaimInOwnPublishLedger',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      Resource: this.table.arn,
    };
  }
}

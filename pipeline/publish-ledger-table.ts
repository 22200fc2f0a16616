/**
 * The contract of a consumer's publish ledger table (consumer option `publishLedger`), shared by the
 * cdktf stack that declares the table and the consumer code that writes to it. Plain constants, no
 * imports: consumer bundles import this file directly, without the definition and its schema.
 *
 * One item per claimed key: `ledgerKey` (partition key, String) plus `expiresAt`, the DynamoDB TTL
 * attribute (DynamoDB Developer Guide, "Time to Live": a Number holding epoch seconds; expired items are
 * deleted in the background, typically within a few days, and stay readable until then).
 */

/** Environment variable holding the table name; set only where a ledger table is deployed. */
export const PUBLISH_LEDGER_TABLE_VARIABLE = 'PUBLISH_LEDGER_TABLE';

/** Partition key attribute (type String). */
export const LEDGER_KEY_ATTRIBUTE = 'ledgerKey';

/** TTL attribute (type Number, epoch seconds). */
export const LEDGER_EXPIRY_ATTRIBUTE = 'expiresAt';

/** `<deployed consumer name>-publish-ledger`, e.g. `orders-prod-order-metrics-publish-ledger`. */
export function publishLedgerTableName(deployedConsumerName: string): string {
  return `${deployedConsumerName}-publish-ledger`;
}

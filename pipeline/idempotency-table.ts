/**
 * The contract of an idempotency table (option `idempotencyTable` of a consumer or a plain function),
 * shared by the cdktf stack that declares it, the local runner that creates it on dynalite, and the
 * code that writes to it (the consumer runtime; review-intake's accept-once.ts). Plain constants, no
 * imports: function bundles import this file directly.
 *
 * The table has the publish ledger's shape (pipeline/publish-ledger-table.ts): partition key
 * `ledgerKey` (String), TTL attribute `expiresAt` (Number, epoch seconds). Items: `event|<event id>`
 * (IN_PROGRESS claim with a lease, then COMPLETED) and `attempt|<stream>|<shard>|<sequence>|<sub>`
 * (consecutive failed deliveries of one record). See consumers/runtime/durable-store.ts.
 */

/** Environment variable holding the table name; the runtime uses DynamoDB when it is set. */
export const IDEMPOTENCY_TABLE_VARIABLE = 'IDEMPOTENCY_TABLE';

/** Environment variable: how long an item is kept after its last write (whole seconds). */
export const IDEMPOTENCY_RETENTION_VARIABLE = 'IDEMPOTENCY_RETENTION_SECONDS';

/** `<deployed consumer or function name>-idempotency`, e.g. `orders-prod-review-intake-idempotency`. */
export function idempotencyTableName(deployedName: string): string {
  return `${deployedName}-idempotency`;
}

/**
 * Items outlive the stream's retention by a day, so a record read back by a redrive (at most
 * `retentionHours` old) still finds its COMPLETED claim.
 */
export function idempotencyRetentionSeconds(streamRetentionHours: number): number {
  return streamRetentionHours * 3600 + 24 * 3600;
}

/**
 * The part of `@aws-sdk/client-dynamodb` the idempotency store and the publish ledger uses, as a module of its own for a lazy `import()`: a dynamic
 * import of the package keeps every command of the client in the chunk (a namespace cannot be
 * tree-shaken); importing these names through this file lets esbuild drop the rest.
 */
export { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';

export { pipeline } from './pipeline';
export { definePipeline, PipelineDefinitionError } from './define-pipeline';
export * from './definition-schema';
export { MAPPING_LIMITS, STREAM_LIMITS, FUNCTION_LIMITS, SQS_LIMITS } from './limits';
export { functionEnvironment, functionNameVariable, deployedName, RUNTIME_METRICS_NAMESPACE, RECORD_FILTER_PATTERNS_VARIABLE } from './function-environment';
export * from './record-lifetime';
export { PUBLISH_LEDGER_TABLE_VARIABLE, LEDGER_KEY_ATTRIBUTE, LEDGER_EXPIRY_ATTRIBUTE, publishLedgerTableName } from './publish-ledger-table';
export { IDEMPOTENCY_TABLE_VARIABLE, IDEMPOTENCY_RETENTION_VARIABLE, idempotencyTableName, idempotencyRetentionSeconds } from './idempotency-table';

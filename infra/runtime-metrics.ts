/**
 * The consumer runtime's Embedded Metric Format metrics as the alarms and dashboard read them.
 * Must match what consumers/runtime emits: namespace from env METRICS_NAMESPACE
 * (RUNTIME_METRICS_NAMESPACE) and the dimension set below.
 */
export { RUNTIME_METRICS_NAMESPACE } from '../pipeline';

/** Dimension set of the runtime's per-invocation EMF document (env CONSUMER_NAME). */
export function runtimeMetricDimensions(consumerName: string): Record<string, string> {
  return { ConsumerName: consumerName };
}

/** Per-stream alarms: write and read throttling, and the stream-wide iterator age. */
import { Construct } from 'constructs';
import type { ConsumerDefinition, StreamDefinition } from '../../pipeline';
import { streamIteratorAgeThresholdMs } from '../thresholds';
import { notifyingAlarm } from './alarm';

export interface StreamAlarmsProps {
  streamName: string;
  definition: StreamDefinition;
  /** The consumers reading the stream: the iterator-age alarm must fire before the first of them discards records. */
  consumers: readonly ConsumerDefinition[];
  alarmTopicArn: string;
}

export class StreamAlarms extends Construct {
  constructor(scope: Construct, id: string, props: StreamAlarmsProps) {
    super(scope, id);
    const { streamName, definition, alarmTopicArn } = props;
    const base = { namespace: 'AWS/Kinesis', dimensions: { StreamName: streamName }, period: definition.alarms.periodSeconds, evaluationPeriods: 1 };
    // Kinesis publishes stream-level metrics only while the stream is used: no data is no traffic, not a fault.
    notifyingAlarm(this, 'write-throttled', alarmTopicArn, {
      ...base,
      alarmName: `${streamName}-write-throttled`,
      alarmDescription: `Producers to ${streamName} are throttled (ProvisionedThroughputExceededException): add shards or switch to on-demand.`,
      metricName: 'WriteProvisionedThroughputExceeded',
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: definition.alarms.writeThrottledRecordsPerPeriod,
      treatMissingData: 'notBreaching',
    });
    notifyingAlarm(this, 'read-throttled', alarmTopicArn, {
      ...base,
      alarmName: `${streamName}-read-throttled`,
      alarmDescription: `Readers of ${streamName} are throttled (5 GetRecords/s and 2 MiB/s per shard shared): consider enhanced fan-out.`,
      metricName: 'ReadProvisionedThroughputExceeded',
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: definition.alarms.readThrottledPerPeriod,
      treatMissingData: 'notBreaching',
    });
    const threshold = streamIteratorAgeThresholdMs(definition, props.consumers);
    notifyingAlarm(this, 'iterator-age', alarmTopicArn, {
      ...base,
      alarmName: `${streamName}-iterator-age`,
      alarmDescription:
        `The slowest reader of ${streamName} is ${threshold} ms behind: a fraction of the shortest time a record may wait ` +
        `(${definition.retentionHours} h retention, or a consumer's maximumRecordAgeInSeconds) before it is discarded or lost.`,
      metricName: 'GetRecords.IteratorAgeMilliseconds',
      statistic: 'Maximum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold,
      treatMissingData: 'notBreaching',
    });
  }
}

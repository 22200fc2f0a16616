/**
 * The business alarm: a consumer's business metric (e.g. order-metrics' orders placed per window)
 * falls to zero while its stream has traffic. Technical alarms stay silent when every record is
 * processed "successfully" but nothing useful comes out (a filter that matches nothing, a producer
 * sending the wrong event type): this one does not.
 */
import { Construct } from 'constructs';
import type { ConsumerDefinition } from '../../pipeline';
import type { BusinessAlarmConfig } from '../stage-config';
import { businessAlarmPeriodSeconds } from '../thresholds';
import { notifyingAlarm } from './alarm';

export interface BusinessAlarmProps {
  /** Alarm name prefix (the consumer's deployed function name). */
  functionName: string;
  consumer: ConsumerDefinition;
  config: BusinessAlarmConfig;
  streamName: string;
  alarmTopicArn: string;
}

export class BusinessAlarm extends Construct {
  constructor(scope: Construct, id: string, props: BusinessAlarmProps) {
    super(scope, id);
    const { consumer, config } = props;
    const namespace = consumer.metricsNamespace;
    if (namespace === undefined) throw new Error(`business alarm: consumer of ${props.functionName} declares no metricsNamespace`);
    const period = businessAlarmPeriodSeconds(consumer);
    notifyingAlarm(this, 'alarm', props.alarmTopicArn, {
      alarmName: `${props.functionName}-${config.metricName}-zero-during-traffic`,
      alarmDescription:
        `${config.metricName} (${namespace}) was 0 for ${config.evaluationPeriods} x ${period} s while ${props.streamName} received more than ` +
        `${config.minIncomingRecords} records per period: events arrive but no business result comes out.`,
      evaluationPeriods: config.evaluationPeriods,
      datapointsToAlarm: config.evaluationPeriods,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      metricQuery: [
        {
          id: 'traffic',
          returnData: false,
          metric: { namespace: 'AWS/Kinesis', metricName: 'IncomingRecords', dimensions: { StreamName: props.streamName }, stat: 'Sum', period },
        },
        {
          id: 'business',
          returnData: false,
          metric: { namespace, metricName: config.metricName, dimensions: config.dimensions, stat: 'Sum', period },
        },
        {
          id: 'zeroDuringTraffic',
          label: `${config.metricName} is zero during traffic`,
          returnData: true,
          // A consumer that stops publishing altogether is the worst case, so a missing business
          // datapoint counts as zero (FILL); 1 = traffic but no business result.
          expression: `IF(traffic > ${config.minIncomingRecords} AND FILL(business, 0) <= 0, 1, 0)`,
        },
      ],
      // The expression has no datapoint only when the stream has no traffic datapoint (no puts at all):
      // quiet hours are not this alarm's concern, so missing data is deliberately not breaching.
      treatMissingData: 'notBreaching',
    });
  }
}

/**
 * A CloudWatch alarm that always notifies: the stage topic is both its alarm action and its OK
 * action, so whoever is woken also learns when it is over. Every alarm of the stack goes through here.
 */
import { Construct } from 'constructs';
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';

export type AlarmProps = Omit<CloudwatchMetricAlarmConfig, 'alarmActions' | 'okActions' | 'actionsEnabled'> & {
  /** Required on purpose: each alarm states how it treats a period without data. */
  treatMissingData: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
};

export function notifyingAlarm(scope: Construct, id: string, topicArn: string, props: AlarmProps): CloudwatchMetricAlarm {
  return new CloudwatchMetricAlarm(scope, id, { ...props, actionsEnabled: true, alarmActions: [topicArn], okActions: [topicArn] });
}

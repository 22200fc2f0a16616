/** Alarms of a stage currently in ALARM (CloudWatch API reference, DescribeAlarms with AlarmNamePrefix, StateValue; paginated). */
import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';

export interface FiringAlarm {
  readonly name: string;
  readonly reason: string | undefined;
  readonly since: Date | undefined;
}

export async function alarmsInAlarm(cloudwatch: CloudWatchClient, prefix: string): Promise<FiringAlarm[]> {
  const out: FiringAlarm[] = [];
  let next: string | undefined;
  do {
    const page = await cloudwatch.send(
      new DescribeAlarmsCommand({
        AlarmNamePrefix: prefix,
        StateValue: 'ALARM',
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        ...(next !== undefined ? { NextToken: next } : {}),
      }),
    );
    for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
      out.push({ name: a.AlarmName!, reason: a.StateReason, since: a.StateUpdatedTimestamp });
    }
    next = page.NextToken;
  } while (next !== undefined);
  return out;
}

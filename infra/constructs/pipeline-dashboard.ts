/**
 * The stage's CloudWatch dashboard: the widgets declared in ../dashboard-widgets.ts (stream
 * throughput, iterator age, consumer errors, throttles and duration, queue depths, the runtime's
 * record counts and the business metrics), rendered as a CloudWatch dashboard body (CloudWatch
 * "Dashboard Body Structure and Syntax"). The local dashboard of `npm start` draws the same widgets.
 */
import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { cloudWatchDashboardBody, pipelineDashboardWidgets, type DashboardWidget, type PipelineDashboardWidgetsProps } from '../dashboard-widgets';

export type { DashboardConsumer } from '../dashboard-widgets';

export interface PipelineDashboardProps extends PipelineDashboardWidgetsProps {
  name: string;
  region: string;
}

export function dashboardUrl(region: string, name: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${encodeURIComponent(name)}`;
}

export class PipelineDashboard extends Construct {
  readonly dashboard: CloudwatchDashboard;
  readonly url: string;
  /** The widget declaration this dashboard renders (read by the local dashboard). */
  readonly widgets: readonly DashboardWidget[];

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    this.widgets = pipelineDashboardWidgets(props);
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: props.name,
      dashboardBody: JSON.stringify(cloudWatchDashboardBody(this.widgets, props.region)),
    });
    this.url = dashboardUrl(props.region, props.name);
  }
}

/** The stage's SNS alarm topic (KMS-encrypted), published to only by this account's CloudWatch alarms. */
import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { policyDocument } from '../policy-document';

export interface AlarmTopicProps {
  name: string;
  kmsKeyArn: string;
  account: string;
  region: string;
  partition: string;
  /** Subscribed by e-mail when set (AWS sends a confirmation mail first). */
  email?: string | undefined;
}

export class AlarmTopic extends Construct {
  readonly topic: SnsTopic;
  readonly subscription: SnsTopicSubscription | undefined;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    this.topic = new SnsTopic(this, 'topic', { name: props.name, kmsMasterKeyId: props.kmsKeyArn });
    new SnsTopicPolicy(this, 'policy', {
      arn: this.topic.arn,
      policy: policyDocument([
        {
          // Confused-deputy protection: only alarms of this account (SNS developer guide, "Amazon SNS access control case examples").
          Sid: 'CloudWatchAlarmsOfThisAccountPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['sns:Publish'],
          Resource: this.topic.arn,
          Condition: {
            StringEquals: { 'aws:SourceAccount': props.account },
            ArnLike: { 'aws:SourceArn': `arn:${props.partition}:cloudwatch:${props.region}:${props.account}:alarm:*` },
          },
        },
        {
          // A Deny covers every present and future SNS action, hence the service wildcard.
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: ['sns:*'],
          Resource: this.topic.arn,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ]),
    });
    this.subscription = props.email
      ? new SnsTopicSubscription(this, 'email', { topicArn: this.topic.arn, protocol: 'email', endpoint: props.email })
      : undefined;
  }
}

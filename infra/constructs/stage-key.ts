/**
 * The stage's customer-managed KMS key (with yearly automatic rotation) that encrypts the alarm
 * topic, the queues, the functions' log groups and, unless the stage names another key, the streams.
 */
import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { policyDocument } from '../policy-document';

export interface StageKeyProps {
  /** Resource name prefix, e.g. `orders-prod`. */
  prefix: string;
  account: string;
  region: string;
  partition: string;
  deletionWindowDays: number;
  /** `prevent_destroy`: everything the stage encrypted is unreadable once the key is gone. */
  protect: boolean;
}

/**
 * What the account (and through it, IAM policies) may do with the key. Enumerated rather than
 * `kms:*`: key administration for the deploying principal plus the data-key operations the
 * services need, nothing else (AWS KMS developer guide, "Default key policy").
 */
const ACCOUNT_KEY_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:ListKeyRotations',
  'kms:RotateKeyOnDemand',
  'kms:ListResourceTags',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateKeyDescription',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:CreateGrant',
  'kms:ListGrants',
  'kms:RevokeGrant',
  'kms:RetireGrant',
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
];

export class StageKey extends Construct {
  readonly key: KmsKey;
  readonly alias: KmsAlias;

  constructor(scope: Construct, id: string, props: StageKeyProps) {
    super(scope, id);
    this.key = new KmsKey(this, 'key', {
      description: `${props.prefix}: Kinesis streams, SQS queues and SNS alarm topic`,
      enableKeyRotation: true,
      deletionWindowInDays: props.deletionWindowDays,
      // In a key policy, Resource "*" means "this key" (KMS developer guide, "Key policies in AWS KMS").
      policy: policyDocument([
        {
          Sid: 'AccountAdministersAndDelegatesToIam',
          Effect: 'Allow',
          Principal: { AWS: `arn:${props.partition}:iam::${props.account}:root` },
          Action: ACCOUNT_KEY_ACTIONS,
          Resource: '*',
        },
        {
          // CloudWatch alarms publish to the KMS-encrypted topic: SNS developer guide,
          // "Configure AWS KMS permissions for AWS services" (CloudWatch needs GenerateDataKey and Decrypt).
          // Confused-deputy protection (IAM user guide, "The confused deputy problem"): only alarms of
          // this account and region may use the key through CloudWatch.
          Sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: '*',
          Condition: {
            StringEquals: { 'aws:SourceAccount': props.account },
            ArnLike: { 'aws:SourceArn': `arn:${props.partition}:cloudwatch:${props.region}:${props.account}:alarm:*` },
          },
        },
        {
          // CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS": the service
          // principal of the region, limited by the encryption context to this stage's log groups.
          Sid: 'CloudWatchLogsEncryptStageLogGroups',
          Effect: 'Allow',
          Principal: { Service: `logs.${props.region}.amazonaws.com` },
          Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
          Resource: '*',
          Condition: {
            ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${props.partition}:logs:${props.region}:${props.account}:log-group:/aws/lambda/${props.prefix}-*` },
          },
        },
      ]),
      lifecycle: { preventDestroy: props.protect },
    });
    this.alias = new KmsAlias(this, 'alias', { name: `alias/${props.prefix}`, targetKeyId: this.key.keyId });
  }
}

/**
 * The stage's customer-managed KMS key (with yearly automatic rotation) that encrypts the alarm
 * topic, the queues and, unless the stage names another key, the streams.
 */
import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { policyDocument } from '../policy-document';

export interface StageKeyProps {
  /** Resource name prefix, e.g. `orders-prod`. */
  prefix: string;
  account: string;
  partition: string;
  deletionWindowDays: number;
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
          Sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: '*',
        },
      ]),
    });
    this.alias = new KmsAlias(this, 'alias', { name: `alias/${props.prefix}`, targetKeyId: this.key.keyId });
  }
}

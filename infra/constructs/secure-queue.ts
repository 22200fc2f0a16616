/**
 * An SQS queue for records that need a human: KMS-encrypted with the stage key, kept for the
 * SQS maximum of 14 days, reachable only over TLS, only from the owner account, and writable
 * only by the roles granted here.
 */
import { Construct } from 'constructs';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { policyDocument, type PolicyStatement } from '../policy-document';

/** SQS developer guide, "Amazon SQS message quotas": retention up to 1,209,600 s (14 days). */
export const QUEUE_RETENTION_SECONDS = 14 * 24 * 3600;

export interface SecureQueueProps {
  name: string;
  kmsKeyArn: string;
  account: string;
  /** `prevent_destroy`: the queue holds the only copy (quarantine) or the only pointer (on-failure) of failed records. */
  protect: boolean;
}

export class SecureQueue extends Construct {
  readonly queue: SqsQueue;
  /** The queue name as a plain string (for alarm dimensions and dashboards). */
  readonly queueName: string;
  private readonly props: SecureQueueProps;
  private policy: SqsQueuePolicy | undefined;

  constructor(scope: Construct, id: string, props: SecureQueueProps) {
    super(scope, id);
    this.props = props;
    this.queueName = props.name;
    this.queue = new SqsQueue(this, 'queue', {
      name: props.name,
      kmsMasterKeyId: props.kmsKeyArn,
      // SQS developer guide, "Encryption at rest": data keys reused up to 5 minutes (fewer KMS calls).
      kmsDataKeyReusePeriodSeconds: 300,
      messageRetentionSeconds: QUEUE_RETENTION_SECONDS,
      // Operators (the ops CLI's redrive) hold a message while re-reading its records from Kinesis.
      visibilityTimeoutSeconds: 300,
      lifecycle: { preventDestroy: props.protect },
    });
  }

  /** Lets exactly these roles send; everything else is the owner account's IAM (SQS: "Amazon SQS security best practices"). */
  grantSend(roleArns: string[]): SqsQueuePolicy {
    if (this.policy) throw new Error(`${this.node.path}: grantSend may be called once`);
    const queueArn = this.queue.arn;
    this.policy = new SqsQueuePolicy(this, 'policy', {
      queueUrl: this.queue.url,
      policy: policyDocument([
        {
          // A Deny covers every present and future SQS action, hence the service wildcard.
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: ['sqs:*'],
          Resource: queueArn,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
        {
          Sid: 'DenyOtherAccounts',
          Effect: 'Deny',
          Principal: '*',
          Action: ['sqs:*'],
          Resource: queueArn,
          Condition: { StringNotEquals: { 'aws:PrincipalAccount': this.props.account } },
        },
        {
          // SendMessageBatch is authorised by sqs:SendMessage (SQS API reference, SendMessageBatch).
          Sid: 'FunctionRolesSend',
          Effect: 'Allow',
          Principal: { AWS: roleArns },
          Action: ['sqs:SendMessage'],
          Resource: queueArn,
        },
      ]),
    });
    return this.policy;
  }
}

/** What a role needs to send to KMS-encrypted queues: the send itself and the queue key's data keys. */
export function queueSendStatements(queueArns: string[], kmsKeyArn: string, region: string): PolicyStatement[] {
  return [
    {
      Sid: 'SendToOwnQueues',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: queueArns,
    },
    {
      // Sending to a KMS-encrypted queue needs kms:GenerateDataKey and kms:Decrypt on its key
      // (SQS developer guide, "Key management": permissions for producers).
      Sid: 'EncryptMessagesForOwnQueues',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: kmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': `sqs.${region}.amazonaws.com` } },
    },
  ];
}

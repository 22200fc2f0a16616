/** A Kinesis data stream of the pipeline: capacity mode, retention, KMS encryption, shard-level metrics. */
import { Construct } from 'constructs';
import { DataAwsKmsKey } from '@cdktf/provider-aws/lib/data-aws-kms-key';
import { KinesisStream } from '@cdktf/provider-aws/lib/kinesis-stream';
import type { StreamDefinition } from '../../pipeline';

/** The AWS managed key for Kinesis: its key policy already lets account principals use it through Kinesis. */
export const AWS_MANAGED_KINESIS_KEY = 'alias/aws/kinesis';

export interface PipelineStreamProps {
  /** Deployed stream name, e.g. `orders-prod-orders`. */
  name: string;
  definition: StreamDefinition;
  /** ARN of the stage's customer-managed key (used when the definition says "customer-managed"). */
  stageKeyArn: string;
  /** `prevent_destroy`: a plan that would delete or replace the stream (and its records) fails instead. */
  protect: boolean;
}

export class PipelineStream extends Construct {
  readonly stream: KinesisStream;
  /**
   * Key whose kms:Decrypt readers need in their IAM policy; undefined for the AWS managed key,
   * whose key policy grants it to account principals calling through Kinesis.
   */
  readonly decryptKeyArn: string | undefined;

  constructor(scope: Construct, id: string, props: PipelineStreamProps) {
    super(scope, id);
    const { definition } = props;
    let kmsKeyId: string;
    if (definition.kmsKey === 'customer-managed') {
      kmsKeyId = props.stageKeyArn;
      this.decryptKeyArn = props.stageKeyArn;
    } else if (definition.kmsKey === AWS_MANAGED_KINESIS_KEY) {
      kmsKeyId = AWS_MANAGED_KINESIS_KEY;
      this.decryptKeyArn = undefined;
    } else {
      // An alias or ARN managed elsewhere: resolve the key ARN, because IAM grants kms:Decrypt on keys, not aliases.
      kmsKeyId = definition.kmsKey;
      this.decryptKeyArn = new DataAwsKmsKey(this, 'key', { keyId: definition.kmsKey }).arn;
    }
    this.stream = new KinesisStream(this, 'stream', {
      name: props.name,
      streamModeDetails: { streamMode: definition.capacity.mode },
      // Shard count is only valid (and required) in provisioned mode (Kinesis API reference, CreateStream).
      ...(definition.capacity.mode === 'PROVISIONED' ? { shardCount: definition.capacity.shardCount } : {}),
      retentionPeriod: definition.retentionHours,
      encryptionType: 'KMS',
      kmsKeyId,
      shardLevelMetrics: definition.shardLevelMetrics,
      // false: deleting a stream that still has registered (enhanced fan-out) consumers fails instead of
      // silently deregistering them (Kinesis API reference, DeleteStream EnforceConsumerDeletion). The
      // stack's own consumers are destroyed first, since they depend on the stream.
      enforceConsumerDeletion: false,
      // The stream name forces replacement: with prevent_destroy a rename fails the plan instead of
      // replacing the stream and losing every unread record.
      lifecycle: { preventDestroy: props.protect },
    });
  }
}

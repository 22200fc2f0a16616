/**
 * IAM policy documents as typed data (IAM User Guide, "IAM JSON policy elements reference").
 * Rendered with JSON.stringify: cdktf tokens (ARNs of resources in the stack) survive as
 * `${...}` interpolations inside the JSON string, so the synthesized policy stays inspectable
 * by the policy tests.
 */
export type Principal = '*' | { AWS: string | string[] } | { Service: string | string[] };

export type ConditionBlock = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
  /** Statement id: says why the statement exists (letters and digits only). */
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Principal;
  Action: string[];
  Resource: string | string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export function policyDocument(statements: PolicyStatement[]): string {
  const document: PolicyDocument = { Version: '2012-10-17', Statement: statements };
  return JSON.stringify(document);
}

/** Partition of a region (ARNs differ in China and GovCloud). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * Trust policy letting Lambda assume a function's execution role, only on behalf of this account
 * (IAM User Guide, "The confused deputy problem": aws:SourceAccount). Trust policies name no Resource.
 */
export function lambdaTrustPolicy(account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'LambdaAssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': account } },
      },
    ],
  });
}

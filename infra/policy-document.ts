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
 * Trust policy letting Lambda assume a function's execution role (Lambda developer guide, "Defining
 * Lambda function permissions with an execution role"). No aws:SourceAccount condition: Lambda does
 * not document setting it on AssumeRole, and a condition on a missing key fails closed (the function
 * could never run). Only principals allowed iam:PassRole on the role can attach it to a function.
 * Trust policies name no Resource.
 */
export function lambdaTrustPolicy(): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'LambdaAssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
}

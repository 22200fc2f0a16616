/**
 * Function names and ARNs as the Lambda Invoke API accepts them (Lambda API reference, Invoke,
 * FunctionName): a name (`my-function`), a name with a qualifier (`my-function:v1`), a partial ARN
 * (`123456789012:function:my-function`) or a full ARN, optionally qualified.
 */

/** The account id local resources live in (the one LocalStack and the emulators use). */
export const LOCAL_ACCOUNT_ID = '000000000000';

export function functionArn(region: string, name: string, accountId = LOCAL_ACCOUNT_ID): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
}

export interface FunctionReference {
  name: string;
  qualifier?: string;
  region?: string;
  accountId?: string;
}

const FULL_ARN = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9-_$]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9-_$]+))?$/;
const NAME = /^([a-zA-Z0-9-_]+)(?::([a-zA-Z0-9-_$]+))?$/;

/** Parse a FunctionName path parameter; undefined when it is not a valid name or ARN. */
export function parseFunctionReference(value: string): FunctionReference | undefined {
  let match = FULL_ARN.exec(value);
  if (match) return withQualifier({ name: match[3]!, region: match[1]!, accountId: match[2]! }, match[4]);
  match = PARTIAL_ARN.exec(value);
  if (match) return withQualifier({ name: match[2]!, accountId: match[1]! }, match[3]);
  match = NAME.exec(value);
  if (match) return withQualifier({ name: match[1]! }, match[2]);
  return undefined;
}

function withQualifier(reference: FunctionReference, qualifier: string | undefined): FunctionReference {
  return qualifier === undefined ? reference : { ...reference, qualifier };
}

/** Synchronous (RequestResponse) invocation of a function, returning its response as data. */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

export interface InvokeResult {
  readonly statusCode: number | undefined;
  /** `Unhandled` (or `Handled`) when the function failed (Lambda API reference, Invoke: X-Amz-Function-Error). */
  readonly functionError: string | undefined;
  /** The response body parsed as JSON; `undefined` for an empty body, the text itself when it is not JSON. */
  readonly payload: unknown;
}

const decoder = new TextDecoder();

export async function invokeRequestResponse(lambda: LambdaClient, functionName: string, event: unknown): Promise<InvokeResult> {
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    }),
  );
  const text = out.Payload ? decoder.decode(out.Payload) : '';
  let payload: unknown;
  if (text.trim() !== '') {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
  }
  return { statusCode: out.StatusCode, functionError: out.FunctionError, payload };
}

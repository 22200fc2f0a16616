/**
 * A consumer's Kinesis event source mapping: found by function name (Lambda API reference,
 * ListEventSourceMappings, paginated with Marker), read (GetEventSourceMapping: State,
 * LastProcessingResult) and switched on/off (UpdateEventSourceMapping Enabled).
 */
import {
  GetEventSourceMappingCommand,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
  type EventSourceMappingConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';

/** Mappings of `functionName` reading `streamName` (directly or through an enhanced fan-out consumer). */
export async function findStreamMappings(lambda: LambdaClient, functionName: string, streamName: string): Promise<EventSourceMappingConfiguration[]> {
  const all: EventSourceMappingConfiguration[] = [];
  let marker: string | undefined;
  do {
    const out = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: functionName, ...(marker !== undefined ? { Marker: marker } : {}) }));
    all.push(...(out.EventSourceMappings ?? []));
    marker = out.NextMarker;
  } while (marker !== undefined);
  // arn:aws:kinesis:<region>:<account>:stream/<name>[/consumer/<consumer>:<ts>]
  const suffix = `:stream/${streamName}`;
  return all.filter((m) => {
    const arn = m.EventSourceArn ?? '';
    return arn.endsWith(suffix) || arn.includes(`${suffix}/consumer/`);
  });
}

export async function getMapping(lambda: LambdaClient, uuid: string): Promise<EventSourceMappingConfiguration> {
  return lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
}

export async function setMappingEnabled(lambda: LambdaClient, uuid: string, enabled: boolean): Promise<EventSourceMappingConfiguration> {
  return lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
}

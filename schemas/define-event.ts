import * as z from 'zod';
import { envelopeFields } from './envelope';

/**
 * One event contract: the envelope with `type` and `version` pinned and `data` typed.
 * The full schema is built once, at module load, never per record.
 */
export interface EventDefinition<
  TType extends string = string,
  TVersion extends number = number,
  TData extends z.ZodType = z.ZodType,
> {
  readonly type: TType;
  readonly version: TVersion;
  readonly description: string;
  readonly data: TData;
  /** The complete event (envelope + data), strict. */
  readonly schema: z.ZodType<EventOf<TType, TVersion, z.output<TData>>, EventInputOf<TType, TVersion, z.input<TData>>>;
}

export interface EventOf<TType extends string, TVersion extends number, TData> {
  id: string;
  type: TType;
  version: TVersion;
  occurredAt: string;
  source: string;
  traceId?: string | undefined;
  hops: number;
  data: TData;
}

export type EventInputOf<TType extends string, TVersion extends number, TData> = Omit<
  EventOf<TType, TVersion, TData>,
  'hops'
> & { hops?: number | undefined };

export function defineEvent<const TType extends string, const TVersion extends number, TData extends z.ZodType>(def: {
  type: TType;
  version: TVersion;
  description: string;
  data: TData;
}): EventDefinition<TType, TVersion, TData> {
  const schema = z
    .strictObject({
      ...envelopeFields,
      type: z.literal(def.type, { error: `must be "${def.type}"` }),
      version: z.literal(def.version, { error: `must be ${def.version}` }),
      data: def.data,
    })
    .meta({ title: `${def.type} v${def.version}`, description: def.description });
  return { ...def, schema: schema as unknown as EventDefinition<TType, TVersion, TData>['schema'] };
}

/** The validated event type of a definition. */
export type EventOfDefinition<D> = D extends EventDefinition<infer T, infer V, infer S> ? EventOf<T, V, z.output<S>> : never;

/**
 * Every limit of the pipeline definition, both sides of each boundary, with the exact message.
 * Limits and defaults: Lambda "services-kinesis-parameters" / CreateEventSourceMapping, Lambda
 * CreateFunction (MemorySize, Timeout), Kinesis IncreaseStreamRetentionPeriod, Lambda quotas (filters).
 */
import { describe, expect, it } from 'vitest';
import { PipelineDefinitionError, definePipeline, pipeline, type PipelineDefinitionInput } from '../../pipeline/index';

/** The reference definition as input: its validated form is a valid input (defaults filled in). */
const reference = (): PipelineDefinitionInput => structuredClone(pipeline);

type Edit = (d: PipelineDefinitionInput) => void;

function problemsOf(edit: Edit): readonly string[] {
  const input = reference();
  edit(input);
  try {
    definePipeline(input);
  } catch (error) {
    expect(error).toBeInstanceOf(PipelineDefinitionError);
    return (error as PipelineDefinitionError).problems;
  }
  return [];
}

const metrics = (d: PipelineDefinitionInput) => d.consumers['order-metrics']!;
const mapping = (d: PipelineDefinitionInput) => metrics(d).mapping as Record<string, unknown>;

interface Boundary {
  rule: string;
  field: string;
  set: (d: PipelineDefinitionInput, value: unknown) => void;
  accepted: unknown[];
  rejected: unknown[];
  message: string;
}

const onMapping = (key: string) => (d: PipelineDefinitionInput, value: unknown) => {
  mapping(d)[key] = value;
};

const boundaries: Boundary[] = [
  {
    rule: 'batchSize 1..10000',
    field: 'consumers.order-metrics.mapping.batchSize',
    set: onMapping('batchSize'),
    accepted: [1, 10_000],
    rejected: [0, 10_001],
    message: 'must be between 1 and 10000',
  },
  {
    rule: 'maximumBatchingWindowInSeconds 0..300',
    field: 'consumers.order-metrics.mapping.maximumBatchingWindowInSeconds',
    set: onMapping('maximumBatchingWindowInSeconds'),
    accepted: [0, 300],
    rejected: [-1, 301],
    message: 'must be between 0 and 300',
  },
  {
    rule: 'parallelizationFactor 1..10',
    field: 'consumers.order-metrics.mapping.parallelizationFactor',
    set: onMapping('parallelizationFactor'),
    accepted: [1, 10],
    rejected: [0, 11],
    message: 'must be between 1 and 10',
  },
  {
    rule: 'maximumRetryAttempts -1..10000',
    field: 'consumers.order-metrics.mapping.maximumRetryAttempts',
    // poisonRecordAttempts 1, so that 0 retries (one delivery) is coherent with rule 13 (tested below).
    set: (d, value) => {
      onMapping('maximumRetryAttempts')(d, value);
      (metrics(d) as Record<string, unknown>)['poisonRecordAttempts'] = 1;
    },
    accepted: [-1, 0, 10_000],
    rejected: [-2, 10_001],
    message: 'must be between -1 and 10000',
  },
  {
    rule: 'maximumRecordAgeInSeconds -1 or 60..604800',
    field: 'consumers.order-metrics.mapping.maximumRecordAgeInSeconds',
    // Without an on-failure queue, so only the AWS range is at stake (record age vs retention and
    // alarms: see 'record age, retention and alarms' below).
    set: (d, v) => {
      mapping(d)['onFailureDestination'] = 'none';
      mapping(d)['maximumRecordAgeInSeconds'] = v;
    },
    accepted: [-1, 60, 604_800],
    rejected: [-2, 0, 59, 604_801],
    message: 'must be -1 or between 60 and 604800',
  },
  {
    rule: 'tumblingWindowInSeconds 0..900',
    field: 'consumers.order-metrics.mapping.tumblingWindowInSeconds',
    set: onMapping('tumblingWindowInSeconds'),
    accepted: [0, 900],
    rejected: [-1, 901],
    message: 'must be between 0 and 900',
  },
  {
    rule: 'stream retentionHours 24..8760',
    field: 'streams.orders.retentionHours',
    set: (d, v) => {
      (d.streams['orders'] as Record<string, unknown>)['retentionHours'] = v;
    },
    accepted: [24, 8760],
    rejected: [23, 8761],
    message: 'must be between 24 and 8760',
  },
  {
    rule: 'consumer memoryMb 128..10240',
    field: 'consumers.order-metrics.memoryMb',
    set: (d, v) => {
      (metrics(d) as Record<string, unknown>)['memoryMb'] = v;
    },
    accepted: [128, 10_240],
    rejected: [127, 10_241],
    message: 'must be between 128 and 10240',
  },
  {
    rule: 'function memoryMb 128..10240',
    field: 'functions.review-intake.memoryMb',
    set: (d, v) => {
      (d.functions!['review-intake'] as Record<string, unknown>)['memoryMb'] = v;
    },
    accepted: [128, 10_240],
    rejected: [127, 10_241],
    message: 'must be between 128 and 10240',
  },
  {
    rule: 'consumer timeoutSeconds 1..900',
    field: 'consumers.order-metrics.timeoutSeconds',
    set: (d, v) => {
      (metrics(d) as Record<string, unknown>)['timeoutSeconds'] = v;
    },
    accepted: [1, 900],
    rejected: [0, 901],
    message: 'must be between 1 and 900',
  },
  {
    rule: 'function timeoutSeconds 1..900',
    field: 'functions.review-intake.timeoutSeconds',
    set: (d, v) => {
      (d.functions!['review-intake'] as Record<string, unknown>)['timeoutSeconds'] = v;
    },
    accepted: [1, 900],
    rejected: [0, 901],
    message: 'must be between 1 and 900',
  },
  {
    rule: 'provisioned shardCount >= 1',
    field: 'streams.orders.capacity.shardCount',
    set: (d, v) => {
      d.streams['orders']!.capacity = { mode: 'PROVISIONED', shardCount: v as number };
    },
    accepted: [1],
    rejected: [0],
    message: 'must be between 1 and 10000',
  },
];

describe.each(boundaries.map((b) => [b.rule, b] as const))('%s', (_rule, { field, set, accepted, rejected, message }) => {
  it.each(accepted)(`accepts %s`, (value) => {
    const input = reference();
    set(input, value);
    const parsed = definePipeline(input);
    const path = field.split('.');
    const actual = path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], parsed);
    expect(actual).toBe(value);
  });

  it.each(rejected)(`rejects %s: "${field}: ${message}"`, (value) => {
    expect(problemsOf((d) => set(d, value))).toEqual([`${field}: ${message}`]);
  });

  it('rejects a non-integer', () => {
    expect(problemsOf((d) => set(d, accepted[0] === -1 ? 60.5 : Number(accepted.at(-1)) - 0.5))).toEqual([`${field}: must be an integer`]);
  });
});

describe('startingPosition and AT_TIMESTAMP', () => {
  const field = 'consumers.order-metrics.mapping';
  it.each(['TRIM_HORIZON', 'LATEST'])('accepts %s without a timestamp', (position) => {
    expect(problemsOf((d) => (mapping(d)['startingPosition'] = position))).toEqual([]);
  });

  it('accepts AT_TIMESTAMP with an ISO-8601 timestamp', () => {
    const input = reference();
    mapping(input)['startingPosition'] = 'AT_TIMESTAMP';
    mapping(input)['startingPositionTimestamp'] = '2026-01-01T00:00:00Z';
    expect(definePipeline(input).consumers['order-metrics']!.mapping.startingPositionTimestamp).toBe('2026-01-01T00:00:00Z');
  });

  it.each([
    ['AT_TIMESTAMP without a timestamp', 'AT_TIMESTAMP', undefined, `${field}.startingPositionTimestamp: is required when startingPosition is AT_TIMESTAMP`],
    [
      'a timestamp with LATEST',
      'LATEST',
      '2026-01-01T00:00:00Z',
      `${field}.startingPositionTimestamp: is only allowed when startingPosition is AT_TIMESTAMP`,
    ],
    ['a timestamp that is not ISO-8601', 'AT_TIMESTAMP', 'yesterday', `${field}.startingPositionTimestamp: must be an ISO-8601 date-time`],
    ['an unknown position', 'EARLIEST', undefined, `${field}.startingPosition: must be one of TRIM_HORIZON, LATEST, AT_TIMESTAMP`],
  ])('rejects %s', (_label, position, timestamp, problem) => {
    const problems = problemsOf((d) => {
      mapping(d)['startingPosition'] = position;
      if (timestamp !== undefined) mapping(d)['startingPositionTimestamp'] = timestamp;
    });
    expect(problems).toEqual([problem]);
  });

  it('is required (AWS has no default)', () => {
    expect(problemsOf((d) => delete mapping(d)['startingPosition'])).toEqual([
      `${field}.startingPosition: must be one of TRIM_HORIZON, LATEST, AT_TIMESTAMP`,
    ]);
  });
});

describe('filter patterns (Lambda quota: 5 filters per event source mapping)', () => {
  const pattern = { data: { type: ['order.placed'] } };
  /** Mapping-level filters are only allowed on a stream that never carries KPL aggregates (see below). */
  const noAggregates = (d: PipelineDefinitionInput): void => {
    (d.streams['orders'] as Record<string, unknown>)['aggregatedRecords'] = 'never';
  };
  const withFilters = (patterns: unknown[]) => (d: PipelineDefinitionInput) => {
    noAggregates(d);
    mapping(d)['filterPatterns'] = patterns;
  };
  it('accepts 5', () => {
    expect(problemsOf(withFilters(Array.from({ length: 5 }, () => pattern)))).toEqual([]);
  });
  it('rejects 6', () => {
    expect(problemsOf(withFilters(Array.from({ length: 6 }, () => pattern)))).toEqual([
      'consumers.order-metrics.mapping.filterPatterns: must have at most 5 filter patterns (Lambda quota per mapping)',
    ]);
  });
  it('rejects a pattern longer than 4096 characters (Filter.Pattern limit)', () => {
    expect(problemsOf(withFilters([{ data: { sku: ['x'.repeat(4096)] } }]))).toEqual([
      'consumers.order-metrics.mapping.filterPatterns.0: must serialise to at most 4096 characters (Lambda Filter.Pattern limit)',
    ]);
  });
  it('rejects a pattern that is not an object', () => {
    expect(problemsOf(withFilters(['order.placed']))).toEqual([
      'consumers.order-metrics.mapping.filterPatterns.0: must be an event-filtering pattern object, e.g. {"data":{"type":["order.placed"]}}',
    ]);
  });
});

describe('poison-record isolation and retries (rule 13: K deliveries must fit in MaximumRetryAttempts + 1)', () => {
  const set = (retries: number, attempts?: number) => (d: PipelineDefinitionInput) => {
    mapping(d)['maximumRetryAttempts'] = retries;
    if (attempts !== undefined) (metrics(d) as Record<string, unknown>)['poisonRecordAttempts'] = attempts;
  };
  it('defaults to 3 (test/infra/stack.test.ts sees it reach the function as POISON_RECORD_ATTEMPTS)', () => {
    expect(pipeline.consumers['order-metrics']!.poisonRecordAttempts).toBe(3);
  });
  it('accepts K = retries + 1, retries -1 (until the record expires) and K = 0 (off) with any retries', () => {
    expect(problemsOf(set(2))).toEqual([]);
    expect(problemsOf(set(0, 1))).toEqual([]);
    expect(problemsOf(set(-1, 50))).toEqual([]);
    expect(problemsOf(set(0, 0))).toEqual([]);
  });
  it('refuses K above retries + 1, saying what Lambda would do and both fixes', () => {
    expect(problemsOf(set(1))).toEqual([
      'consumers.order-metrics.poisonRecordAttempts: is 3, but mapping.maximumRetryAttempts 1 gives a failing record only 2 deliveries: ' +
        'Lambda sends its whole batch (records that took effect included) to on-failure before the record counts as poison. ' +
        'Set mapping.maximumRetryAttempts to at least 2 (or -1), or poisonRecordAttempts to at most 2',
    ]);
  });
  it('poisonRecordAttempts is a whole number from 0', () => {
    expect(problemsOf(set(5, -1))).toEqual(['consumers.order-metrics.poisonRecordAttempts: must be 0 (off) or more']);
    expect(problemsOf(set(5, 1.5))).toEqual(['consumers.order-metrics.poisonRecordAttempts: must be a whole number of deliveries']);
  });
});

describe('filters and KPL aggregation ("Using event filtering with a Kinesis event source": Kinesis filters read data as JSON)', () => {
  const pattern = { data: { type: ['order.placed'] } };
  it('refuses a mapping-level data filter on a stream whose records may be aggregated, naming the alternative', () => {
    expect(problemsOf((d) => (mapping(d)['filterPatterns'] = [pattern]))).toEqual([
      'consumers.order-metrics.mapping.filterPatterns: filter on record data, but records of stream "orders" may be KPL-aggregated and Lambda drops every aggregate unseen (its data is not JSON): ' +
        'move the patterns to consumers.order-metrics.recordFilterPatterns (applied by the runtime after deaggregation, same syntax), ' +
        'or declare streams.orders.aggregatedRecords: "never" if no producer aggregates',
    ]);
  });
  it('accepts the same patterns as recordFilterPatterns, and compiles them at load (a pattern Lambda would reject fails here)', () => {
    expect(problemsOf((d) => ((metrics(d) as Record<string, unknown>)['recordFilterPatterns'] = [pattern]))).toEqual([]);
    expect(problemsOf((d) => ((metrics(d) as Record<string, unknown>)['recordFilterPatterns'] = [{ data: { type: [{ numeric: ['~', 1] }] } }]))).toEqual([
      'consumers.order-metrics.recordFilterPatterns: filter pattern at recordFilterPatterns[0].data.type[0].numeric: unknown numeric operator "~"',
    ]);
    expect(problemsOf((d) => ((metrics(d) as Record<string, unknown>)['recordFilterPatterns'] = [{ partitionKey: ['a'] }]))).toEqual([
      'consumers.order-metrics.recordFilterPatterns: filter pattern at recordFilterPatterns[0]: Kinesis event source mappings only support filtering on the "data" key, got "partitionKey"',
    ]);
  });
  it('the reference definition filters order-review in the runtime, not in the mapping', () => {
    expect(pipeline.consumers['order-review']!.mapping.filterPatterns).toEqual([]);
    expect(pipeline.consumers['order-review']!.recordFilterPatterns).toEqual([pattern]);
    expect(pipeline.streams['orders']!.aggregatedRecords).toBe('possible');
  });
});

describe('record age, retention and alarms: no alarm that can only fire after the loss', () => {
  it('the reference definition is coherent in every shipped stage retention (24 h, 48 h, 168 h)', () => {
    for (const hours of [24, 48, 168]) expect(problemsOf((d) => ((d.streams['orders'] as Record<string, unknown>)['retentionHours'] = hours))).toEqual([]);
  });
  it('refuses an explicit iterator-age threshold that fires only after records are discarded', () => {
    expect(problemsOf((d) => (metrics(d).alarms = { iteratorAgeSeconds: 43_000 }))).toEqual([
      'consumers.order-metrics.alarms: the iterator-age alarm fires at the earliest after 12.03 h (threshold + 1 x 300 s), but records are discarded after 12 h (min of retention 24 h and maximumRecordAgeInSeconds): lower the threshold or raise the record age',
    ]);
  });
  it('refuses a record age that leaves no time to redrive on-failure records before the retention ends', () => {
    expect(problemsOf((d) => (mapping(d)['maximumRecordAgeInSeconds'] = 86_400))).toEqual([
      'consumers.order-metrics.mapping.maximumRecordAgeInSeconds: 86400 s leaves 0 h between a discard and the end of the 24 h retention: the on-failure queue\'s age alarm cannot fire before its records expire; keep it at least 601 s below the retention',
    ]);
    // -1 (AWS default): never discarded for age; records expire at the retention, which the iterator-age
    // alarms (fractions of the retention then) fire well before. Allowed here; the policy checks flag it.
    expect(problemsOf((d) => (mapping(d)['maximumRecordAgeInSeconds'] = -1))).toEqual([]);
  });
  it('refuses a stream alarm that fires only after its consumers discard records', () => {
    expect(
      problemsOf((d) => {
        d.streams['orders']!.alarms = { iteratorAgeFractionOfRetention: 0.99, periodSeconds: 3600 };
      }),
    ).toEqual([
      'streams.orders.alarms: the iterator-age alarm fires at the earliest after 12.88 h, but its consumers discard records after 12 h: lower iteratorAgeFractionOfRetention or periodSeconds',
    ]);
  });
});

describe('references and unknown settings', () => {
  it('rejects a consumer reading an undeclared stream', () => {
    expect(problemsOf((d) => (metrics(d).stream = 'payments'))).toEqual([
      'consumers.order-metrics.stream: must name a declared stream (orders)',
    ]);
  });

  it('rejects invoking an undeclared function', () => {
    expect(problemsOf((d) => (d.consumers['order-review']!.invokes = ['review-intake', 'fraud-check']))).toEqual([
      'consumers.order-review.invokes.1: must name a declared function, got "fraud-check"',
    ]);
  });

  it('rejects a publishLedger that is not a boolean, saying what it does', () => {
    expect(problemsOf((d) => ((metrics(d) as Record<string, unknown>)['publishLedger'] = 'yes'))).toEqual([
      'consumers.order-metrics.publishLedger: must be true or false (true: deploy a DynamoDB publish ledger table for this consumer)',
    ]);
    expect(problemsOf((d) => (d.consumers['order-review']!.publishLedger = true))).toEqual([]);
  });

  it('rejects a function idempotencyTable that is not a boolean, saying what it does; defaults to false', () => {
    expect(problemsOf((d) => ((d.functions!['review-intake'] as Record<string, unknown>)['idempotencyTable'] = 'yes'))).toEqual([
      'functions.review-intake.idempotencyTable: must be true or false (true: deploy a DynamoDB idempotency table for this function)',
    ]);
    expect(problemsOf((d) => (d.functions!['review-intake']!.idempotencyTable = true))).toEqual([]);
    expect(problemsOf((d) => (d.functions!['review-intake']!.idempotencyTable = false))).toEqual([]);
    const input = reference();
    delete input.functions!['review-intake']!.idempotencyTable;
    expect(definePipeline(input).functions['review-intake']!.idempotencyTable).toBe(false);
  });

  it('rejects a consumer named like a function (Lambda names are unique)', () => {
    expect(problemsOf((d) => (d.functions!['order-metrics'] = { entry: 'x.ts' }))).toEqual([
      'consumers.order-metrics: must not share its name with a function (Lambda names are unique)',
    ]);
  });

  it.each([
    ['a mapping setting', (d: PipelineDefinitionInput) => (mapping(d)['batchSizee'] = 10), 'consumers.order-metrics.mapping.batchSizee'],
    ['a consumer setting', (d: PipelineDefinitionInput) => ((metrics(d) as Record<string, unknown>)['memory'] = 512), 'consumers.order-metrics.memory'],
    ['a stream setting', (d: PipelineDefinitionInput) => ((d.streams['orders'] as Record<string, unknown>)['shards'] = 4), 'streams.orders.shards'],
    ['a top-level setting', (d: PipelineDefinitionInput) => ((d as Record<string, unknown>)['region'] = 'eu-west-1'), 'region'],
  ])('rejects an unknown setting: %s', (_label, edit, path) => {
    expect(problemsOf(edit)).toEqual([`${path}: is not a known setting`]);
  });

  it('rejects a resource name that is not a valid name, saying why', () => {
    expect(
      problemsOf((d) => {
        d.consumers['Order_Metrics'] = d.consumers['order-metrics']!;
        delete d.consumers['order-metrics'];
      }),
    ).toEqual([
      'consumers.Order_Metrics: is not a valid name: must be 1-40 characters of lower-case letters, digits or "-", starting with a letter',
    ]);
  });

  it('rejects a stream declaration missing entirely', () => {
    expect(problemsOf((d) => (d.streams = {}))).toEqual([
      'streams: must declare at least one stream',
      'consumers.order-metrics.stream: must name a declared stream (none declared)',
      'consumers.order-review.stream: must name a declared stream (none declared)',
    ]);
  });
});

describe('problem reports', () => {
  it('lists every problem at once, one per line, in a PipelineDefinitionError', () => {
    const input = reference();
    mapping(input)['batchSize'] = 0;
    mapping(input)['maximumRecordAgeInSeconds'] = 30;
    (input.streams['orders'] as Record<string, unknown>)['retentionHours'] = 1;
    let caught: unknown;
    try {
      definePipeline(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PipelineDefinitionError);
    const error = caught as PipelineDefinitionError;
    expect(error.name).toBe('PipelineDefinitionError');
    expect([...error.problems].sort()).toEqual([
      'consumers.order-metrics.mapping.batchSize: must be between 1 and 10000',
      'consumers.order-metrics.mapping.maximumRecordAgeInSeconds: must be -1 or between 60 and 604800',
      'streams.orders.retentionHours: must be between 24 and 8760',
    ]);
    expect(error.message.split('\n')[0]).toBe('invalid pipeline definition:');
    for (const problem of error.problems) expect(error.message).toContain(`\n  ${problem}`);
  });

  it.each([
    ['a missing mapping', (d: PipelineDefinitionInput) => delete (metrics(d) as Record<string, unknown>)['mapping'], 'consumers.order-metrics.mapping: is required'],
    ['a mapping that is not an object', (d: PipelineDefinitionInput) => ((metrics(d) as Record<string, unknown>)['mapping'] = 5), 'consumers.order-metrics.mapping: must be an object'],
    ['a negative stream alarm threshold', (d: PipelineDefinitionInput) => (d.streams['orders']!.alarms = { writeThrottledRecordsPerPeriod: -1 }), 'streams.orders.alarms.writeThrottledRecordsPerPeriod: must be at least 0'],
    ['an environment value that is not a string', (d: PipelineDefinitionInput) => (metrics(d).environment = { A: 1 as unknown as string }), 'consumers.order-metrics.environment.A: must be a string'],
    ['a bisect flag that is not boolean', (d: PipelineDefinitionInput) => (mapping(d)['bisectBatchOnFunctionError'] = 'yes'), 'consumers.order-metrics.mapping.bisectBatchOnFunctionError: must be true or false'],
    ['an unknown on-failure destination', (d: PipelineDefinitionInput) => (mapping(d)['onFailureDestination'] = 'sns'), 'consumers.order-metrics.mapping.onFailureDestination: must be "queue" or "none"'],
  ])('words %s in the same style as the limits', (_label, edit, problem) => {
    expect(problemsOf(edit)).toEqual([problem]);
  });
});

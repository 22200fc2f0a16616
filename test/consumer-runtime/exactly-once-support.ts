/**
 * Shared pieces of the exactly-once tests: a Lambda context whose remaining time runs down from the
 * invocation's start (so the timeout guard fires while a handler is held), a gate the test opens, the
 * effects a handler produced (the ground truth is computed from the events the test put), and a
 * durable store on dynalite per "table".
 */
import type { Context } from 'aws-lambda';
import { DynamoDbDurableStore } from '../../consumers/runtime/dynamodb-durable-store';
import type { OrderEvent } from '../../schemas/index';
import { createLedgerTable, startDynalite, type EmbeddedDynamoDb } from '../support/dynalite';

/** A context whose remaining time is `budgetMs` minus the time since the invocation started. */
export function contextWithBudget(budgetMs: number, requestId: string): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'exactly-once',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:exactly-once',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/exactly-once',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, budgetMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A promise the test resolves: handlers wait on it (a scheduled fault, never a timing race). */
export class Gate {
  readonly opened: Promise<void>;
  private release!: () => void;
  isOpen = false;
  constructor() {
    this.opened = new Promise((resolve) => (this.release = resolve));
  }
  open(): void {
    this.isOpen = true;
    this.release();
  }
}

/** What handlers did: every effect, and how many executions of each key ran at once at most. */
export class EffectLog {
  readonly effects: string[] = [];
  readonly started: string[] = [];
  private readonly running = new Map<string, number>();
  maxConcurrentPerKey = 0;

  begin(key: string, eventId: string): void {
    this.started.push(eventId);
    const n = (this.running.get(key) ?? 0) + 1;
    this.running.set(key, n);
    this.maxConcurrentPerKey = Math.max(this.maxConcurrentPerKey, n);
  }

  end(key: string): void {
    this.running.set(key, (this.running.get(key) ?? 1) - 1);
  }

  /** How many times each event id took effect. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const id of this.effects) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }
}

/** Ground truth: every valid event the test put took effect exactly once, and nothing else did. */
export function exactlyOnce(log: EffectLog, expected: readonly OrderEvent[]): Record<string, number> {
  const counts = log.counts();
  const wrong: Record<string, number> = {};
  for (const event of expected) if (counts.get(event.id) !== 1) wrong[event.id] = counts.get(event.id) ?? 0;
  const expectedIds = new Set(expected.map((e) => e.id));
  for (const [id, n] of counts) if (!expectedIds.has(id)) wrong[id] = n;
  return wrong;
}

export interface DurableTables {
  readonly dynamo: EmbeddedDynamoDb;
  /** A store on a new table (one table = one consumer). */
  store(tableName: string): Promise<DynamoDbDurableStore>;
}

export async function startDurableTables(): Promise<DurableTables> {
  const dynamo = await startDynalite();
  const created = new Set<string>();
  return {
    dynamo,
    async store(tableName: string) {
      const client = dynamo.client();
      if (!created.has(tableName)) {
        await createLedgerTable(client, tableName);
        created.add(tableName);
      }
      return new DynamoDbDurableStore({ client, tableName });
    },
  };
}

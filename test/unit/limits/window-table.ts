import type { DynamoDBClient, UpdateItemCommand, UpdateItemCommandOutput } from '@aws-sdk/client-dynamodb';

/**
 * How the table treats a call when it is answered: applies it and answers; refuses it unapplied
 * (throttling, access denied, a reset before the request arrived); or applies it and loses the answer
 * (a timeout after DynamoDB took the write).
 */
export type TableMode = 'answers' | 'refuses' | 'loses-answers';

/** One answered lease as the calling container read it: the window and the `claimers` count returned. */
export interface Reading {
  readonly window: number;
  readonly claimers: number;
}

interface HeldCall {
  readonly container: number;
  readonly input: UpdateItemCommand['input'];
  readonly resolve: (output: UpdateItemCommandOutput) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The state table's rate-limit window items in memory, for model tests of the real limiter and its real
 * `leaseTokens`: each container gets a client whose `UpdateItem` calls are held until the test answers
 * them, one at a time, in the mode the table is in at that moment. Only the updates the limiter writes are
 * understood (`ADD #a :x, #b :y SET #c = :z`, returning `ALL_NEW`, keys left out): anything else throws.
 */
export class WindowTable {
  mode: TableMode = 'answers';
  private readonly items = new Map<string, Map<string, number>>();
  private readonly held: HeldCall[] = [];
  private readonly readingsOf = new Map<number, Reading[]>();

  /** A client for container `container`: `send` takes `UpdateItemCommand`s only. */
  clientFor(container: number): DynamoDBClient {
    const send = (command: UpdateItemCommand) =>
      new Promise<UpdateItemCommandOutput>((resolve, reject) => {
        this.held.push({ container, input: command.input, resolve, reject });
      });
    return { send } as unknown as DynamoDBClient;
  }

  get heldCalls(): number {
    return this.held.length;
  }

  /** Answers the held call at `index` (modulo the number held), if any is held. */
  answer(index: number): void {
    if (this.held.length === 0) return;
    const [call] = this.held.splice(index % this.held.length, 1) as [HeldCall];
    if (this.mode === 'refuses') {
      call.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      return;
    }
    const item = this.apply(call.input);
    if (this.mode === 'loses-answers') {
      call.reject(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }));
      return;
    }
    const window = Number(call.input.Key?.sk?.S);
    const readings = this.readingsOf.get(call.container) ?? [];
    readings.push({ window, claimers: item.get('claimers') ?? 0 });
    this.readingsOf.set(call.container, readings);
    call.resolve({
      Attributes: Object.fromEntries([...item].map(([name, value]) => [name, { N: String(value) }])),
      $metadata: {},
    });
  }

  /** An attribute of the window item of `pk` and `window`, 0 when absent. */
  attribute(pk: string, window: number, name: string): number {
    return this.items.get(`${pk}|${window}`)?.get(name) ?? 0;
  }

  /** What container `container` read, in the order its leases were answered. */
  readings(container: number): readonly Reading[] {
    return this.readingsOf.get(container) ?? [];
  }

  /** The item's numeric attributes after the update. */
  private apply(input: UpdateItemCommand['input']): Map<string, number> {
    const key = `${input.Key?.pk?.S}|${input.Key?.sk?.S}`;
    const item = this.items.get(key) ?? new Map<string, number>();
    this.items.set(key, item);
    const match = /^ADD (.+) SET (#\w+) = (:\w+)$/.exec(input.UpdateExpression ?? '');
    if (!match || input.ReturnValues !== 'ALL_NEW') {
      throw new Error(`WindowTable cannot apply ${input.UpdateExpression} returning ${input.ReturnValues}`);
    }
    const [, additions, setName, setValue] = match as unknown as [string, string, string, string];
    const nameOf = (placeholder: string) => input.ExpressionAttributeNames?.[placeholder] ?? placeholder;
    const numberAt = (placeholder: string) => Number(input.ExpressionAttributeValues?.[placeholder]?.N);
    for (const addition of additions.split(', ')) {
      const [name, value] = addition.split(' ') as [string, string];
      item.set(nameOf(name), (item.get(nameOf(name)) ?? 0) + numberAt(value));
    }
    item.set(nameOf(setName), numberAt(setValue));
    return item;
  }
}

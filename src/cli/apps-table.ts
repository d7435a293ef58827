import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { isPossibleAppIdentifier } from '../apps/identifier.js';
import type { AppItem } from '../apps/parse-item.js';
import { APP_KEY_INDEX, appsTableDefinition } from '../apps/table-schema.js';
import { AppAlreadyExistsError } from '../errors/errors.js';

export interface ItemChange {
  readonly set: AppItem;
  readonly remove?: readonly string[];
  /**
   * Values the change was computed from, checked atomically with it; `undefined` means "still absent".
   * Lists, maps and sets are checked by type only (emulators cannot compare them).
   */
  readonly expect?: Readonly<Record<string, AttributeValue | undefined>>;
}

/** `changed`: an expected value no longer held, so nothing was written. */
export type ChangeOutcome = 'updated' | 'missing' | 'changed';

const TABLE_READY_SECONDS = 120;

/** The apps table as the CLI uses it. SDK errors pass through unchanged; the CLI explains them in one place. */
export class AppsTable {
  constructor(
    private readonly client: DynamoDBClient,
    readonly name: string,
  ) {}

  /** A strongly consistent read, so an app just written by the CLI is seen. */
  async get(id: string): Promise<AppItem | undefined> {
    // As in the resolver: an id that cannot exist is not looked up (DynamoDB would reject an empty key).
    if (!isPossibleAppIdentifier(id)) return undefined;
    const output = await this.client.send(
      new GetItemCommand({ TableName: this.name, Key: { AppId: { S: id } }, ConsistentRead: true }),
    );
    return output.Item;
  }

  /** Up to `limit` items with this key, from the key index (eventually consistent, like the resolver's). */
  async itemsWithKey(key: string, limit: number): Promise<AppItem[]> {
    if (!isPossibleAppIdentifier(key)) return [];
    const output = await this.client.send(
      new QueryCommand({
        TableName: this.name,
        IndexName: APP_KEY_INDEX,
        KeyConditionExpression: 'AppKey = :key',
        ExpressionAttributeValues: { ':key': { S: key } },
        Limit: limit,
      }),
    );
    return output.Items ?? [];
  }

  /** Ids of the apps other than `exceptId` that use this key. */
  async otherAppsWithKey(key: string, exceptId?: string): Promise<string[]> {
    const items = await this.itemsWithKey(key, 3);
    return items.map((item) => item.AppId?.S ?? '').filter((id) => id !== exceptId);
  }

  /** Writes a new app; throws `AppAlreadyExistsError` when the id is taken. */
  async create(item: AppItem): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.name,
          Item: item,
          ConditionExpression: 'attribute_not_exists(AppId)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new AppAlreadyExistsError(item.AppId!.S!);
      throw error;
    }
  }

  /** Writes an app whether or not its id exists, replacing the whole item; returns the item replaced. */
  async replace(item: AppItem): Promise<AppItem | undefined> {
    const output = await this.client.send(
      new PutItemCommand({ TableName: this.name, Item: item, ReturnValues: 'ALL_OLD' }),
    );
    return output.Attributes;
  }

  /** Sets and removes attributes of an existing app, leaving the others as they are. */
  async change(id: string, change: ItemChange): Promise<ChangeOutcome> {
    if (!isPossibleAppIdentifier(id)) return 'missing';
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const name = (attribute: string) => {
      const placeholder = `#a${Object.keys(names).length}`;
      names[placeholder] = attribute;
      return placeholder;
    };
    const value = (attributeValue: AttributeValue) => {
      const placeholder = `:v${Object.keys(values).length}`;
      values[placeholder] = attributeValue;
      return placeholder;
    };
    const sets = Object.entries(change.set).map(([attribute, next]) => `${name(attribute)} = ${value(next)}`);
    const removes = (change.remove ?? []).map(name);
    const conditions = ['attribute_exists(AppId)'];
    for (const [attribute, old] of Object.entries(change.expect ?? {})) {
      const placeholder = name(attribute);
      if (old === undefined || old.NULL) conditions.push(`attribute_not_exists(${placeholder})`);
      else if (isComparable(old)) conditions.push(`${placeholder} = ${value(old)}`);
      else conditions.push(`attribute_type(${placeholder}, ${value({ S: typeName(old) })})`);
    }
    const update = [
      sets.length > 0 ? `SET ${sets.join(', ')}` : '',
      removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.name,
          Key: { AppId: { S: id } },
          UpdateExpression: update,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return 'updated';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (change.expect === undefined) return 'missing';
      return (await this.get(id)) === undefined ? 'missing' : 'changed';
    }
  }

  /** Deletes an app; false when there was none. */
  async delete(id: string): Promise<boolean> {
    if (!isPossibleAppIdentifier(id)) return false;
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.name,
          Key: { AppId: { S: id } },
          ConditionExpression: 'attribute_exists(AppId)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The table page by page (a Scan, `pageSize` items a request), never all of it at once. */
  async *pages(pageSize: number): AsyncGenerator<AppItem[]> {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const output = await this.client.send(
        new ScanCommand({ TableName: this.name, Limit: pageSize, ExclusiveStartKey: startKey }),
      );
      yield output.Items ?? [];
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  /** Creates the table with soketi's schema (on demand) and waits until it is active. */
  async createTable(): Promise<void> {
    await this.client.send(new CreateTableCommand(appsTableDefinition(this.name)));
    await waitUntilTableExists(
      { client: this.client, maxWaitTime: TABLE_READY_SECONDS, minDelay: 0.25, maxDelay: 5 },
      { TableName: this.name },
    );
  }
}

function isComparable(value: AttributeValue): boolean {
  return value.S !== undefined || value.N !== undefined || value.B !== undefined || value.BOOL !== undefined;
}

function typeName(value: AttributeValue): string {
  return Object.entries(value).find(([, member]) => member !== undefined)?.[0] ?? 'NULL';
}

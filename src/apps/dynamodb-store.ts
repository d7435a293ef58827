import { type DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AppLimitDefaults } from '../config/config.js';
import { DEFAULT_APP_LIMITS } from '../config/config.js';
import { DuplicateAppKeyError, InvalidAppItemError, StoreUnavailableError } from '../errors/errors.js';
import type { StructuredLogger } from '../observability/logger.js';
import type { App } from './app.js';
import { isPossibleAppIdentifier } from './identifier.js';
import { type AppItem, parseAppItem } from './parse-item.js';
import type { AppStore } from './store.js';
import { APP_KEY_INDEX } from './table-schema.js';

export interface DynamoDbAppStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Defaults to soketi's `AppKeyIndex`. */
  readonly indexName?: string;
  /** Server-level defaults for the seven limit fields; soketi's when omitted. */
  readonly limitDefaults?: AppLimitDefaults;
  /** Bad items and duplicated keys are logged here. */
  readonly logger?: StructuredLogger;
}

/**
 * Reads apps from soketi's table: GetItem on `AppId` for ids, a Query on the key index for keys.
 * Every SDK or network failure, a missing table or index included, becomes `StoreUnavailableError`:
 * only a successful read that finds nothing is "not found".
 */
export class DynamoDbAppStore implements AppStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly indexName: string;
  private readonly limitDefaults: AppLimitDefaults;
  private readonly logger: StructuredLogger | undefined;

  constructor(options: DynamoDbAppStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.indexName = options.indexName ?? APP_KEY_INDEX;
    this.limitDefaults = options.limitDefaults ?? DEFAULT_APP_LIMITS;
    this.logger = options.logger;
  }

  async findById(id: string): Promise<App | undefined> {
    if (!isPossibleAppIdentifier(id)) return undefined;
    // Eventually consistent: half the read cost, and a just-written app shows up within a second.
    const output = await this.send('GetItem', () =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { AppId: { S: id } } })),
    );
    return output.Item === undefined ? undefined : this.parse(output.Item);
  }

  async findByKey(key: string): Promise<App | undefined> {
    if (!isPossibleAppIdentifier(key)) return undefined;
    // Two items, not one: a second item with the same key is a data error to refuse, not a coin toss.
    const output = await this.send('Query', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: this.indexName,
          KeyConditionExpression: 'AppKey = :key',
          ExpressionAttributeValues: { ':key': { S: key } },
          Limit: 2,
        }),
      ),
    );
    const items = output.Items ?? [];
    if (items.length > 1) {
      const appIds = items.map((item) => item.AppId?.S ?? '(no AppId)');
      const error = new DuplicateAppKeyError(key, appIds);
      this.logger?.error('Refusing an app key shared by several apps', { appKey: key, appIds });
      throw error;
    }
    return items[0] === undefined ? undefined : this.parse(items[0]);
  }

  private async send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (cause) {
      const name = cause instanceof Error ? cause.name : 'unknown error';
      // A missing table or index is a deployment fault, not an unknown app.
      const hint = name === 'ResourceNotFoundException' ? ' (the table or index does not exist)' : '';
      throw new StoreUnavailableError(
        `App store unavailable: DynamoDB ${operation} on table ${this.tableName} failed with ${name}${hint}`,
        { cause },
      );
    }
  }

  private parse(item: AppItem): App {
    try {
      return parseAppItem(item, this.limitDefaults);
    } catch (error) {
      if (error instanceof InvalidAppItemError) {
        this.logger?.error('Invalid app item', { appId: error.appId, problems: error.problems });
      }
      throw error;
    }
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putSubscriber } from '../../../src/state/channels.js';
import { subscriberPage } from '../../../src/state/subscribers.js';
import type { StateTable } from '../../../src/state/table.js';
import { createStateTable, type TestTable, testClient } from '../../support/dynamodb.js';

const NOW = Date.UTC(2026, 11, 7, 12);

let table: TestTable;
let state: StateTable;

beforeAll(async () => {
  const client = testClient();
  table = await createStateTable(client, 'subscribers');
  state = { client, tableName: table.name };
});

afterAll(async () => {
  await table.drop();
  state.client.destroy();
});

describe('subscriberPage', () => {
  it('reads a channel page by page from where the last page ended, each subscriber once, then says it is done', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `conn-${String(i).padStart(2, '0')}`);
    for (const id of ids) await putSubscriber(state, 'app', 'paged', id, undefined, NOW);

    const read: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await subscriberPage(state, 'app', 'paged', NOW, { limit: 10, ...(after && { after }) });
      read.push(...page.connectionIds);
      after = page.next;
      pages++;
    } while (after !== undefined && pages < 10);

    expect(read).toEqual(ids);
    expect(pages).toBe(3);
  });

  it('says a channel that ends on the last subscriber of a page has no next page', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `even-${String(i).padStart(2, '0')}`);
    for (const id of ids) await putSubscriber(state, 'app', 'even', id, undefined, NOW);

    const first = await subscriberPage(state, 'app', 'even', NOW, { limit: 10 });
    const second = await subscriberPage(state, 'app', 'even', NOW, { limit: 10, after: first.next! });

    expect([first.connectionIds, first.next]).toEqual([ids.slice(0, 10), ids[9]]);
    expect([second.connectionIds, second.next]).toEqual([ids.slice(10), undefined]);
  });
});

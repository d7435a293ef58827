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

  it('reads only a range [from, to): the id at `to` belongs to the next range, and a page ending at the range end says it is done', async () => {
    const ids = ['A1', 'A2', 'B', 'B1', 'B2', 'B3', 'C', 'C1'];
    for (const id of ids) await putSubscriber(state, 'app', 'ranged', id, undefined, NOW);
    const read = (range: { from: string; to?: string }, limit: number, after?: string) =>
      subscriberPage(state, 'app', 'ranged', NOW, { limit, range, ...(after && { after }) });

    // From the start up to B: B itself is the next range's.
    expect(await read({ from: '', to: 'B' }, 10)).toEqual({ connectionIds: ['A1', 'A2'], next: undefined });
    // B up to C, in pages of two: the second page ends at the range's end, read ahead only to C (left out).
    const first = await read({ from: 'B', to: 'C' }, 2);
    expect(first).toEqual({ connectionIds: ['B', 'B1'], next: 'B1' });
    expect(await read({ from: 'B', to: 'C' }, 2, first.next)).toEqual({
      connectionIds: ['B2', 'B3'],
      next: undefined,
    });
    // The last range has no end.
    expect(await read({ from: 'C' }, 10)).toEqual({ connectionIds: ['C', 'C1'], next: undefined });
  });
});

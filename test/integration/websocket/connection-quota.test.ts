import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONNECTION_COUNTER_SETTINGS } from '../../../src/state/connection-counter.js';
import { appItem } from '../../fixtures/apps/items.js';
import { type WsHandlers, WsHarness } from '../../fixtures/gateway/ws-harness.js';

const QUOTA = 3;
const CONNECTS = 10;

let gateway: WsHarness;
let containers: WsHandlers[];

beforeAll(async () => {
  gateway = await WsHarness.start('ws-quota', [
    appItem('app-q', { MaxConnections: { N: String(QUOTA) } }),
    appItem('app-lost', { MaxConnections: { N: '2' } }),
  ]);
  containers = [gateway.handlers, await gateway.loadContainer(), await gateway.loadContainer()];
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  await gateway?.close();
});

function welcomed(connectionId: string): boolean {
  return gateway.connectionsApi.framesOf(connectionId)[0]?.event === 'pusher:connection_established';
}

function refusedOverQuota(connectionId: string): boolean {
  const [first] = gateway.connectionsApi.framesOf(connectionId);
  return first?.event === 'pusher:error' && (first.data as { code: number }).code === 4004;
}

describe('MaxConnections through $connect, across containers', () => {
  it(`admits exactly ${QUOTA} of ${CONNECTS} simultaneous connects; the others get pusher:error 4004 and are closed`, async () => {
    const upgrades = await Promise.all(
      Array.from({ length: CONNECTS }, (_, index) =>
        gateway.upgrade('app-q-key', { container: containers[index % containers.length] }),
      ),
    );

    const ids = upgrades.map((upgrade) => upgrade.connectionId);
    expect(upgrades.every((upgrade) => upgrade.status === 200)).toBe(true);
    expect(ids.filter(welcomed)).toHaveLength(QUOTA);
    const refused = ids.filter(refusedOverQuota);
    expect(refused).toHaveLength(CONNECTS - QUOTA);
    expect(gateway.connectionsApi.deleted).toEqual(expect.arrayContaining(refused));
  });

  it('admits again after $disconnects were lost, once those connections cannot be alive any more', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const start = Date.now();
    const lost = [await gateway.connect('app-lost-key'), await gateway.connect('app-lost-key')];
    // The clients vanish; AWS never runs $disconnect for them.
    for (const { connectionId } of lost) gateway.connectionsApi.drop(connectionId);

    const stillBlocked = await gateway.upgrade('app-lost-key');
    expect(refusedOverQuota(stillBlocked.connectionId)).toBe(true);

    vi.setSystemTime(start + CONNECTION_COUNTER_SETTINGS.slots * CONNECTION_COUNTER_SETTINGS.bucketMs);
    const afterHorizon = await gateway.upgrade('app-lost-key');
    expect(welcomed(afterHorizon.connectionId)).toBe(true);
  });
});

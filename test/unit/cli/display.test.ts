import { describe, expect, it } from 'vitest';
import { appRecordFromItem } from '../../../src/cli/app-record.js';
import { formatDetails, HIDDEN, shownRecord } from '../../../src/cli/display.js';
import { DEFAULT_APP_LIMITS } from '../../../src/config/config.js';
import { appItem } from '../../fixtures/apps/items.js';

const record = appRecordFromItem(
  appItem('a', {
    AppSecret: { S: 's3cret' },
    Webhooks: {
      S: JSON.stringify([
        {
          url: 'https://us3r:pa55@hooks.example/h?token=abc123&plain=',
          event_types: ['channel_occupied'],
          headers: { Authorization: 'Bearer t0k' },
        },
      ]),
    },
  }),
);

describe('shown records', () => {
  it('hides webhook URL credentials and query values like header values', () => {
    const shown = JSON.stringify(shownRecord(record, false));
    for (const secret of ['us3r', 'pa55', 'abc123', 't0k', 's3cret']) expect(shown).not.toContain(secret);
    expect(shown).toContain(`https://${HIDDEN}:${HIDDEN}@hooks.example/h?token=${HIDDEN}&plain=${HIDDEN}`);
    const details = formatDetails(record, false, DEFAULT_APP_LIMITS);
    for (const secret of ['us3r', 'pa55', 'abc123', 't0k', 's3cret']) expect(details).not.toContain(secret);
  });

  it('shows everything with --show-secret', () => {
    expect(shownRecord(record, true)).toEqual(record);
    expect(formatDetails(record, true, DEFAULT_APP_LIMITS)).toContain('token=abc123');
  });
});

import type { AppLimitDefaults } from '../config/config.js';
import type { WebhookTargetRules } from '../webhooks/config.js';
import type { AppsTable } from './apps-table.js';
import type { RandomBytes } from './credentials.js';
import type { InputStream, OutputStream } from './io.js';
import type { TableTarget } from './target.js';

/** What a command works with; every part injected, so commands run in-process in tests. */
export interface CommandContext {
  readonly target: TableTarget;
  readonly table: AppsTable;
  /** Server-level defaults of the seven limits (from the environment), to show what an absent limit means. */
  readonly limitDefaults: AppLimitDefaults;
  /** What the stage lets webhooks reach (the sender's `WEBHOOKS_*` variables), for `doctor`. */
  readonly webhookRules: WebhookTargetRules;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: InputStream;
  readonly randomBytes: RandomBytes;
  /** Milliseconds, for progress redraws. */
  readonly now: () => number;
  /** Relative paths (import FILE, --output, --webhooks @FILE) are resolved here. */
  readonly cwd: string;
}

/** What Lambdas that cached an app keep serving after a change, said once after each change. */
export function cacheNote(what: string): string {
  return (
    `Lambdas that cached the app keep ${what} for up to APP_MANAGER_CACHE_TTL seconds (60 by default), ` +
    'longer while DynamoDB fails (APP_MANAGER_CACHE_STALE_IF_ERROR).'
  );
}

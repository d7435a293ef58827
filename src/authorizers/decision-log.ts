import type { StructuredLogger } from '../observability/logger.js';

/**
 * One structured line per authorizer decision: what was decided, why, for which app, how long it took,
 * and the resolver's cache counters. Never the secret or the full signature.
 */
export function logDecision(
  logger: StructuredLogger,
  fields: {
    readonly decision: 'allow' | 'deny' | 'error';
    readonly reason?: string;
    readonly appId?: string;
    readonly appKey?: string;
    readonly startedAt: number;
    readonly cache: object;
  },
): void {
  const { startedAt, ...rest } = fields;
  const latencyMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
  const line = { ...rest, latencyMs };
  if (fields.decision === 'error') logger.error('authorizer decision', line);
  else logger.info('authorizer decision', line);
}

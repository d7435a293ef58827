import { ConfigError } from '../errors/errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads one variable by its name or, for soketi users, by `SOKETI_<name>`. The plain name wins
 * when both are set. Empty values count as absent.
 */
export function readVariable(env: Env, name: string): { name: string; value: string } | undefined {
  for (const candidate of [name, `SOKETI_${name}`]) {
    const value = env[candidate]?.trim();
    if (value) return { name: candidate, value };
  }
  return undefined;
}

export function readString(env: Env, name: string, fallback: string): string {
  return readVariable(env, name)?.value ?? fallback;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const found = readVariable(env, name);
  if (!found) return fallback;
  const word = found.value.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new ConfigError(found.name, `expected true or false, got "${found.value}"`);
}

export interface NumberRule {
  /** Accept only whole numbers. */
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Negative values mean unlimited and become `Infinity`, as for the per-app limits. */
  readonly negativeIsUnlimited?: boolean;
}

export function readNumber(env: Env, name: string, fallback: number, rule: NumberRule = {}): number {
  const found = readVariable(env, name);
  if (!found) return fallback;
  const value = Number(found.value);
  if (!Number.isFinite(value)) throw new ConfigError(found.name, `expected a number, got "${found.value}"`);
  if (rule.negativeIsUnlimited && value < 0) return Number.POSITIVE_INFINITY;
  if (rule.integer && !Number.isInteger(value)) {
    throw new ConfigError(found.name, `expected a whole number, got "${found.value}"`);
  }
  if (rule.min !== undefined && value < rule.min) {
    throw new ConfigError(found.name, `expected at least ${rule.min}, got "${found.value}"`);
  }
  if (rule.max !== undefined && value > rule.max) {
    throw new ConfigError(found.name, `expected at most ${rule.max}, got "${found.value}"`);
  }
  return value;
}

export function readUrl(env: Env, name: string): string | undefined {
  const found = readVariable(env, name);
  if (!found) return undefined;
  try {
    const url = new URL(found.value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError(found.name, `expected an http(s) URL, got "${found.value}"`);
  }
  return found.value;
}

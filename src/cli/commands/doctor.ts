import { type AppItem, parseAppItem } from '../../apps/parse-item.js';
import type { CommandContext } from '../context.js';
import { type Diagnosis, diagnoseItem, type Finding, sharedKeyFindings } from '../doctor/diagnose.js';
import { unreachableWebhooks } from '../doctor/webhook-reach.js';
import { describeTarget } from '../target.js';

export interface DoctorOptions {
  readonly fix: boolean;
  readonly pageSize: number;
}

interface Tally {
  scanned: number;
  toFix: number;
  fixed: number;
  changedMeanwhile: number;
  unreadable: number;
  sharedKeys: number;
  warnings: number;
  /** Apps whose differences --fix settles by keeping this service's reading, with nothing to write. */
  kept: number;
  /** Apps with a difference only the operator can settle. */
  manual: number;
  undeliverable: number;
}

/**
 * Scans the table and reports every item this service reads differently than soketi did, or cannot read.
 * With `fix`, rewrites the fixable items in canonical types as `diagnoseItem` plans it, each one
 * conditional on still holding what was read. Exit code 1 while problems remain: unreadable items, shared
 * keys, values only the operator can set, and (without `fix`) items to fix. Warnings and differences kept
 * on purpose (-1 in the seven limits, webhook members this service ignores) do not count.
 */
export async function doctor(context: CommandContext, options: DoctorOptions): Promise<number> {
  const out = context.stdout;
  context.stderr.write(
    `Checking ${describeTarget(context.target)}${options.fix ? ', fixing what can be fixed' : ''}.\n`,
  );
  const tally: Tally = {
    scanned: 0,
    toFix: 0,
    fixed: 0,
    changedMeanwhile: 0,
    unreadable: 0,
    sharedKeys: 0,
    warnings: 0,
    kept: 0,
    manual: 0,
    undeliverable: 0,
  };
  const idsByKey = new Map<string, string[]>();
  for await (const page of context.table.pages(options.pageSize)) {
    for (const item of page) {
      tally.scanned += 1;
      const diagnosis = await withReach(diagnoseItem(item, context.limitDefaults), item, context);
      if (diagnosis.key !== undefined)
        idsByKey.set(diagnosis.key, [...(idsByKey.get(diagnosis.key) ?? []), diagnosis.id]);
      if (diagnosis.findings.length === 0 && diagnosis.fix === undefined) continue;
      const status = await settle(context, diagnosis, options.fix, tally);
      out.write(
        `${diagnosis.id}${diagnosis.key === undefined ? '' : ` (key ${diagnosis.key})`}: ${status}\n`,
      );
      for (const finding of diagnosis.findings) out.write(formatFinding(finding));
    }
  }
  const shared = sharedKeyFindings(idsByKey);
  tally.sharedKeys = shared.length;
  if (shared.length > 0) out.write(`Keys shared by several apps:\n${shared.map(formatFinding).join('')}`);
  out.write(`${summary(tally, options.fix)}\n`);
  const remaining =
    tally.unreadable +
    tally.sharedKeys +
    tally.changedMeanwhile +
    tally.manual +
    tally.undeliverable +
    (options.fix ? 0 : tally.toFix);
  return remaining > 0 ? 1 : 0;
}

/** The diagnosis with the webhooks this stage could not deliver, for an item the service reads. */
async function withReach(diagnosis: Diagnosis, item: AppItem, context: CommandContext): Promise<Diagnosis> {
  if (diagnosis.findings.some((finding) => finding.kind === 'unreadable')) return diagnosis;
  const reach = await unreachableWebhooks(parseAppItem(item, context.limitDefaults), context.webhookRules);
  return reach.length === 0 ? diagnosis : { ...diagnosis, findings: [...diagnosis.findings, ...reach] };
}

async function settle(
  context: CommandContext,
  diagnosis: Diagnosis,
  fix: boolean,
  tally: Tally,
): Promise<string> {
  tally.warnings += diagnosis.findings.filter((finding) => finding.kind === 'warning').length;
  tally.undeliverable += diagnosis.findings.filter((finding) => finding.kind === 'undeliverable').length;
  if (diagnosis.findings.some((finding) => finding.kind === 'unreadable')) {
    tally.unreadable += 1;
    return 'this service cannot read it; --fix leaves it as it is';
  }
  const manual = diagnosis.findings.some((finding) => finding.manual);
  if (manual) tally.manual += 1;
  const leftNote = manual ? '; some values need setting by hand, see below' : '';
  if (diagnosis.fix === undefined) {
    if (manual) return 'needs values set by hand, see below; --fix leaves them';
    if (diagnosis.findings.every((finding) => finding.kind === 'warning')) return 'warning';
    if (
      diagnosis.findings.every((finding) => finding.kind === 'warning' || finding.kind === 'undeliverable')
    ) {
      return 'has webhooks this stage cannot deliver, see below';
    }
    tally.kept += 1;
    return "read differently than soketi did; this service's reading is kept, nothing to rewrite";
  }
  if (!fix) {
    tally.toFix += 1;
    return `not in canonical form; --fix rewrites it as described below${leftNote}`;
  }
  const outcome = await context.table.change(diagnosis.id, diagnosis.fix);
  if (outcome === 'updated') {
    tally.fixed += 1;
    return `fixed${leftNote}`;
  }
  if (outcome === 'missing') return 'deleted during the check; nothing to fix';
  tally.changedMeanwhile += 1;
  return 'changed during the check, so not fixed; run the doctor again';
}

function formatFinding(finding: Finding): string {
  return `  [${finding.kind}] ${finding.attribute}: ${finding.text}\n`;
}

function summary(tally: Tally, fix: boolean): string {
  const parts = [
    !fix && tally.toFix > 0 ? `${count(tally.toFix, 'app')} to fix (run apps doctor --fix)` : '',
    tally.fixed > 0 ? `${count(tally.fixed, 'app')} fixed` : '',
    tally.changedMeanwhile > 0 ? `${count(tally.changedMeanwhile, 'app')} changed during the check` : '',
    tally.unreadable > 0 ? `${count(tally.unreadable, 'app')} this service cannot read` : '',
    tally.sharedKeys > 0 ? `${count(tally.sharedKeys, 'key')} shared by several apps` : '',
    tally.manual > 0 ? `${count(tally.manual, 'app')} with values to set by hand` : '',
    tally.kept > 0
      ? `${count(tally.kept, 'app')} read differently than soketi did (this service's reading kept)`
      : '',
    tally.undeliverable > 0 ? `${count(tally.undeliverable, 'webhook')} this stage cannot deliver` : '',
    tally.warnings > 0 ? count(tally.warnings, 'warning') : '',
  ].filter(Boolean);
  return `Checked ${count(tally.scanned, 'app')}: ${parts.length === 0 ? 'no problems' : parts.join(', ')}.`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

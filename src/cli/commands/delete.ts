import { AppNotFoundError, UsageError } from '../../errors/errors.js';
import { type CommandContext, cacheNote } from '../context.js';
import { EXIT_USAGE } from '../exit-codes.js';
import { readFirstLine } from '../io.js';

/**
 * Deletes an app after the operator types its id on a terminal, or at once with `--yes`. Without a
 * terminal to ask on and without `--yes` it refuses before touching the table.
 */
export async function deleteApp(context: CommandContext, id: string, yes: boolean): Promise<number> {
  if (!yes && !context.stdin.isTTY) {
    throw new UsageError(
      `Refusing to delete app ${id} without confirmation: there is no terminal to ask on. Pass --yes to delete it.`,
    );
  }
  const item = await context.table.get(id);
  if (item === undefined) throw new AppNotFoundError(`App ${id}`);
  if (!yes) {
    context.stderr.write(
      `Delete app ${id} (key ${item.AppKey?.S ?? 'none'}) from ${context.target.table}? This cannot be undone.\n` +
        'Type the app id to confirm: ',
    );
    const answer = await readFirstLine(context.stdin);
    if (answer?.trim() !== id) {
      context.stderr.write('Not deleted: the answer was not the app id.\n');
      // A usage error, like a missing confirmation.
      return EXIT_USAGE;
    }
  }
  if (!(await context.table.delete(id))) throw new AppNotFoundError(`App ${id}`);
  context.stdout.write(`Deleted app ${id}.\n`);
  context.stderr.write(`${cacheNote('serving it')}\n`);
  return 0;
}

import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { stateKeys } from './keys.js';
import { expiresAt, type StateTable, unlessConditionFails } from './table.js';

/** A channel occupied or vacated; a user on a presence channel or not. */
export type SubjectState = 'present' | 'absent';

/** What the sender does with one observed transition. */
export type TransitionDecision = 'send' | 'repeat' | 'stale';

/** How long a subject's record outlives its last transition: longer than any channel's quiet spell matters. */
const SUBJECT_TTL_SECONDS = 24 * 60 * 60;
const UNKNOWN = 'unknown';

/**
 * Records that a channel's occupancy (or a user's presence on it, with `userId`) was observed `state` at `at`
 * (see `RaisedEvent.at`), and decides its webhook:
 * - `send`: it differs from the state recorded before (or none was): the transition is sent;
 * - `repeat`: the same as before (a flap inside the departure delay, whose departure was never sent): nothing;
 * - `stale`: a later observation was recorded already (SQS does not keep order): nothing.
 * One conditional write; the record keeps the state before it, so a message SQS delivers again decides as
 * the first delivery did (a second `send` at worst, never a lost one).
 */
export async function recordTransition(
  table: StateTable,
  appId: string,
  subject: { readonly channel: string; readonly userId?: string },
  state: SubjectState,
  at: number,
  nowMs: number,
): Promise<TransitionDecision> {
  const key = stateKeys.webhookSubject(appId, subject.channel, subject.userId);
  const names = { '#state': 'state', '#previous': 'previous', '#at': 'at', '#expiresAt': 'expiresAt' };
  const recorded = await unlessConditionFails(
    table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: key,
        // The right-hand side reads the item as it was: `previous` becomes the state before this write.
        UpdateExpression:
          'SET #previous = if_not_exists(#state, :unknown), #state = :state, #at = :at, #expiresAt = :expiresAt',
        ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: {
          ':unknown': { S: UNKNOWN },
          ':state': { S: state },
          ':at': { N: String(at) },
          ':expiresAt': { N: String(expiresAt(nowMs, SUBJECT_TTL_SECONDS)) },
        },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  if (recorded) return decisionOf(recorded.Attributes?.previous?.S, state);
  const { Item } = await table.client.send(
    new GetItemCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
  );
  // The same observation recorded before: a redelivered message, decided as it was the first time.
  if (Item?.at?.N === String(at) && Item.state?.S === state) return decisionOf(Item.previous?.S, state);
  return 'stale';
}

function decisionOf(previous: string | undefined, state: SubjectState): TransitionDecision {
  return previous === state ? 'repeat' : 'send';
}

import type { App } from '../apps/app.js';
import { BadRequestError, PayloadTooLargeError } from '../errors/errors.js';
import { frameBytes, MAX_FRAME_BYTES } from '../protocol/frames.js';
import { isValidSocketId, validateChannelName, validateEventName } from '../protocol/index.js';
import type { ChannelInfoAttribute, PublishEvent } from '../publish/publish.js';
import { channelNameLimitOf } from '../state/keys.js';

const INFO_ATTRIBUTES: ReadonlySet<string> = new Set<ChannelInfoAttribute>([
  'user_count',
  'subscription_count',
]);

/** Body of `POST /apps/{appId}/events`. */
export function parseTriggerBody(body: unknown, app: App): PublishEvent {
  return parseEvent(body, app, '');
}

/** Body of `POST /apps/{appId}/batch_events`: every item is checked before any is accepted. */
export function parseBatchBody(body: unknown, app: App): PublishEvent[] {
  const batch = isObject(body) ? body.batch : undefined;
  if (!Array.isArray(batch))
    throw new BadRequestError('The body must be a JSON object with a "batch" array.');
  if (batch.length === 0) throw new BadRequestError('The batch is empty.');
  if (batch.length > app.maxEventBatchSize) {
    throw new BadRequestError(
      `Cannot batch-send ${batch.length} events: MaxEventBatchSize is ${app.maxEventBatchSize}.`,
    );
  }
  return batch.map((item, index) => parseEvent(item, app, `batch[${index}].`));
}

/** Points against `MaxBackendEventsPerSecond`: one per channel per event, as soketi counts. */
export function backendEventPoints(events: readonly PublishEvent[]): number {
  let points = 0;
  for (const event of events) points += event.channels.length;
  return points;
}

function parseEvent(body: unknown, app: App, where: string): PublishEvent {
  if (!isObject(body)) throw new BadRequestError(`${where || 'The body'} must be a JSON object.`);
  const { name, data, channel, channels, socket_id: socketId, info } = body;
  if (typeof name !== 'string' || name === '') throw new BadRequestError(`${where}name is required.`);
  if (typeof data !== 'string') throw new BadRequestError(`${where}data is required and must be a string.`);
  const channelList = channelsOf(channel, channels, where);
  if (channelList.length > app.maxEventChannelsAtOnce) {
    throw new BadRequestError(
      `${where}channels: ${channelList.length} given, MaxEventChannelsAtOnce is ${app.maxEventChannelsAtOnce}.`,
    );
  }
  const nameCheck = validateEventName(name, app.maxEventNameLength);
  if (!nameCheck.ok) throw new BadRequestError(`${where}name: ${nameCheck.reason}`);
  for (const channelName of channelList) {
    const channelCheck = validateChannelName(channelName, channelNameLimitOf(app), {
      allowServerToUser: true,
    });
    if (!channelCheck.ok) throw new BadRequestError(`${where}channel: ${channelCheck.reason}`);
  }
  if (channelList.length > 1 && channelList.some((c) => c.startsWith('private-encrypted-'))) {
    throw new BadRequestError(
      `${where}channels: an encrypted channel cannot be triggered with other channels.`,
    );
  }
  const dataBytes = Buffer.byteLength(data, 'utf8');
  const maxBytes = app.maxEventPayloadInKb * 1024;
  // 0 allows nothing, not even empty data.
  if (maxBytes === 0)
    throw new PayloadTooLargeError(`${where}data: MaxEventPayloadInKb is 0, no event may be sent.`);
  if (dataBytes > maxBytes) {
    throw new PayloadTooLargeError(
      `${where}data is ${dataBytes} bytes, over the allowed maximum of ${maxBytes} bytes (MaxEventPayloadInKb ${app.maxEventPayloadInKb}).`,
    );
  }
  // The frame escapes `data` once more (a `"` becomes `\"`): what fits MaxEventPayloadInKb may not fit it.
  const longest = channelList.reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a));
  const bytes = frameBytes({ event: name, channel: longest, data });
  if (bytes > MAX_FRAME_BYTES) {
    throw new PayloadTooLargeError(
      `${where}data: the event's WebSocket frame would be ${bytes} bytes (its data JSON-escaped inside it), over API Gateway's limit of ${MAX_FRAME_BYTES} bytes per message.`,
    );
  }
  if (socketId !== undefined && !isValidSocketId(socketId)) {
    throw new BadRequestError(`${where}socket_id ${JSON.stringify(socketId)} is not a valid socket id.`);
  }
  return { name, data, channels: channelList, socketId, info: infoOf(info, where) };
}

function channelsOf(channel: unknown, channels: unknown, where: string): string[] {
  if (channels !== undefined) {
    if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => typeof c === 'string')) {
      throw new BadRequestError(`${where}channels must be a non-empty array of channel names.`);
    }
    return channels;
  }
  if (typeof channel === 'string' && channel !== '') return [channel];
  throw new BadRequestError(`${where}channel or channels is required.`);
}

function infoOf(info: unknown, where: string): ChannelInfoAttribute[] {
  if (info === undefined || info === '') return [];
  if (typeof info !== 'string') throw new BadRequestError(`${where}info must be a comma-separated string.`);
  const attributes = info.split(',');
  for (const attribute of attributes) {
    if (!INFO_ATTRIBUTES.has(attribute))
      throw new BadRequestError(`${where}info: unknown attribute "${attribute}".`);
  }
  return attributes as ChannelInfoAttribute[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

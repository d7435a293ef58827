// Pusher protocol primitives: HTTP API request signatures, channel and user authorization, webhook
// signatures and the validation rules limits are enforced with. Pure functions, Node crypto only.
export type { ChannelAuthorization, SignChannelInput, VerifyChannelAuthInput } from './channel-auth.js';
export { sharedSecretForEncryptedChannel, signChannel, verifyChannelAuth } from './channel-auth.js';
export type {
  RequestParams,
  SignRequestInput,
  StringToSignInput,
  VerifyFailure,
  VerifyFailureReason,
  VerifyRawRequestInput,
  VerifyRequestBodyInput,
  VerifyRequestInput,
  VerifyResult,
} from './http-signature.js';
export {
  AUTH_VERSION,
  EMPTY_BODY_MD5,
  signRequest,
  stringToSign,
  TIMESTAMP_WINDOW_SECONDS,
  verifyRawRequest,
  verifyRequest,
  verifyRequestBody,
} from './http-signature.js';
export type { QueryParams } from './query.js';
export { parseQueryString } from './query.js';
export type {
  SignUserInput,
  UserAuthentication,
  UserData,
  UserDataResult,
  VerifyUserAuthInput,
} from './user-auth.js';
export { parseUserData, signUser, verifyUserAuth } from './user-auth.js';
export type {
  ChannelNameOptions,
  ChannelType,
  PresenceChannelDataResult,
  PresenceMember,
  ValidationResult,
} from './validation.js';
export {
  ALLOWED_NAME_CHARACTERS,
  channelType,
  isCacheChannel,
  isValidSocketId,
  isValidUserId,
  MAX_USER_ID_LENGTH,
  parsePresenceChannelData,
  SERVER_TO_USER_PREFIX,
  validateChannelName,
  validateEventName,
} from './validation.js';
export { signWebhook } from './webhook-signature.js';

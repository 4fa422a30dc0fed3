// @post-office/client: a typed client for the Post Office sidecar's API.
export { Client, type Enqueued, type EnqueueOptions } from './client.ts';
export { PostOfficeError, type ErrorCode } from './errors.ts';
export { DEFAULT_TOLERANCE_SECONDS, EventSignatureError, verifyEvent, type PostOfficeEvent, type VerifyOptions } from './events.ts';
export { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_SECONDS, DEFAULT_URL, type ClientOptions } from './settings.ts';
export { MAX_RETRY_AFTER_SECONDS } from './transport.ts';
export type * from './types.ts';
export type { paths } from './openapi-types.ts';

// SparkPost's event webhooks (https://developers.sparkpost.com/api/webhooks/): a JSON array of
// {msys: {<class>_event: {...}}} batches. SparkPost signs nothing; it authenticates with the
// basic-auth credentials set on the webhook (auth_type "basic") or a bearer token (an OAuth2
// token, or an Authorization header set in the webhook's custom_headers).
import { SettingsError, onlyFields, optionalString } from '../settings.ts';
import type { DeliveryEvent, EventMeaning, WebhookKind } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { basicAuthMatches, eventKeyOf, eventTime, header, isRecord, jsonBody, safeEqual, text } from './verify.ts';

export type SparkpostWebhookSettings = {
  username?: string;
  password?: string;
  token?: string;
};

// Bounce classes (https://support.sparkpost.com/docs/deliverability/bounce-classification-codes)
// by their category: Hard → hard bounce, Soft and Undetermined → soft bounce, Block and Admin
// (refused by the receiver's or SparkPost's policy) → rejected. 80 (a subscribe request) is no bounce.
const hard = new Set(['10', '30', '90']);
const soft = new Set(['1', '20', '21', '22', '23', '24', '40', '60', '70', '100']);
const refused = new Set(['25', '50', '51', '52', '53', '54']);

function bounceMeaning(bounceClass: string | null): EventMeaning | null {
  if (bounceClass === null || soft.has(bounceClass)) return { type: 'bounced', bounce: 'soft' };
  if (hard.has(bounceClass)) return { type: 'bounced', bounce: 'hard' };
  if (refused.has(bounceClass)) return { type: 'rejected' };
  return null;
}

// Event types about delivery; injection, sms_status, relay (inbound), A/B-test and
// ingest events are not.
const eventTypes: Record<string, EventMeaning | 'bounce'> = {
  delivery: { type: 'delivered' },
  delay: { type: 'deferred' },
  bounce: 'bounce',
  out_of_band: 'bounce',
  spam_complaint: { type: 'complained' },
  policy_rejection: { type: 'rejected' },
  generation_failure: { type: 'rejected' },
  generation_rejection: { type: 'rejected' },
  open: { type: 'opened' },
  initial_open: { type: 'opened' },
  amp_open: { type: 'opened' },
  amp_initial_open: { type: 'opened' },
  click: { type: 'clicked' },
  amp_click: { type: 'clicked' },
  list_unsubscribe: { type: 'unsubscribed' },
  link_unsubscribe: { type: 'unsubscribed' },
};

function event(batch: unknown): DeliveryEvent | null {
  if (!isRecord(batch) || !isRecord(batch.msys)) throw new WebhookBodyError('each element must be an object with msys');
  const classes = Object.values(batch.msys);
  // {"msys": {}} is the test batch SparkPost posts when a webhook is created.
  if (classes.length === 0) return null;
  const record = classes[0];
  if (classes.length > 1 || !isRecord(record)) throw new WebhookBodyError('msys must hold exactly one event object');
  const kind = text(record.type);
  const mapped = kind === null ? undefined : eventTypes[kind];
  if (kind === null || mapped === undefined) return null;
  const bounceClass = text(record.bounce_class);
  const meaning = mapped === 'bounce' ? bounceMeaning(bounceClass) : mapped;
  if (meaning === null) return null;
  const transmissionId = text(record.transmission_id);
  const recipient = text(record.raw_rcpt_to) ?? text(record.rcpt_to);
  if (transmissionId === null) throw new WebhookBodyError(`a ${kind} event has no transmission_id`);
  if (recipient === null) throw new WebhookBodyError(`a ${kind} event has no rcpt_to`);
  const timestamp = text(record.timestamp);
  return {
    ...meaning, providerMessageId: transmissionId, recipient, at: eventTime(timestamp),
    code: text(record.error_code) ?? (bounceClass === null ? null : `bounce_class ${bounceClass}`),
    message: text(record.raw_reason) ?? text(record.reason) ?? text(record.fbtype) ?? text(record.target_link_url),
    eventKey: text(record.event_id) ?? eventKeyOf(kind, transmissionId, recipient, timestamp),
  };
}

export const sparkpostWebhook: WebhookKind<SparkpostWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['username', 'password', 'token']);
    const settings: SparkpostWebhookSettings = {};
    const username = optionalString(raw, 'username');
    const password = optionalString(raw, 'password');
    const token = optionalString(raw, 'token');
    if ((username === undefined) !== (password === undefined)) throw new SettingsError('username and password must be given together');
    if (username === undefined && token === undefined) throw new SettingsError('username and password (basic auth) or token (bearer) is required');
    if (username !== undefined && password !== undefined) Object.assign(settings, { username, password });
    if (token !== undefined) settings.token = token;
    return settings;
  },
  secrets: (settings) => [settings.password, settings.token],
  verify(request, settings) {
    const authorization = header(request, 'authorization') ?? '';
    const bearer = /^bearer /i.test(authorization) ? authorization.slice(7).trim() : '';
    const tokenOk = settings.token !== undefined && safeEqual(bearer, settings.token);
    const basicOk = settings.username !== undefined && settings.password !== undefined && basicAuthMatches(request, settings.username, settings.password);
    return tokenOk || basicOk;
  },
  read(request) {
    const body = jsonBody(request);
    if (!Array.isArray(body)) throw new WebhookBodyError('expected a SparkPost webhook batch (a JSON array)');
    return { kind: 'events', events: body.map((batch) => event(batch)).filter((found) => found !== null) };
  },
};

// Resend: https://resend.com/docs/api-reference/emails/send-email
// The email id travels as Idempotency-Key, so a retry after a timeout or a crash is not a
// second email (Resend keeps keys for 24 hours).
//
// The batch endpoint (https://resend.com/docs/api-reference/emails/send-batch-emails, up to 100
// emails) takes one Idempotency-Key for the whole request, not one per email, and no
// attachments. A batch is therefore sent without a key — its emails lose the de-duplication of
// a retry, which is why batching is a backend's choice ("batch": true) — and emails with
// attachments are always sent one by one.
import type { EmailMessage } from '../email/message.ts';
import { classified, isReply, isSuccess, malformed, parseJson, postJson, type ErrorClass, type HttpReply } from './http.ts';
import { mimeType, some, someRecord } from './fields.ts';
import type { ProviderKind, SendContext, SendOutcome } from './provider.ts';
import { baseUrl, onlyFields, requiredString } from './settings.ts';

export interface ResendSettings {
  provider: 'resend';
  api_key: string;
  base_url: string;
}

// Resend's error bodies name the error: {"statusCode":409,"name":"concurrent_idempotent_requests",...}.
const errorNames: Record<string, ErrorClass> = {
  // The same key is still being processed (an earlier attempt is in flight): try again later.
  concurrent_idempotent_requests: { outcome: 'retryable', code: 'IDEMPOTENCY_CONFLICT' },
  daily_quota_exceeded: { outcome: 'retryable', code: 'RATE_LIMITED' },
  rate_limit_exceeded: { outcome: 'retryable', code: 'RATE_LIMITED' },
  missing_api_key: { outcome: 'permanent', code: 'AUTH_FAILED' },
  invalid_api_key: { outcome: 'permanent', code: 'AUTH_FAILED' },
  restricted_api_key: { outcome: 'permanent', code: 'AUTH_FAILED' },
};

// Resend tag names and values allow only ASCII letters, digits, "_" and "-".
const tagText = /^[A-Za-z0-9_-]{1,256}$/;

function payload(message: EmailMessage): Record<string, unknown> {
  const tags = [
    ...message.tags.filter((tag) => tagText.test(tag)).map((tag) => ({ name: tag, value: 'true' })),
    ...Object.entries(message.metadata).filter(([name, value]) => tagText.test(name) && tagText.test(value)).map(([name, value]) => ({ name, value })),
  ];
  return {
    from: message.from,
    to: message.to,
    cc: some(message.cc),
    bcc: some(message.bcc),
    reply_to: some(message.reply_to),
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: someRecord(message.headers),
    attachments: some(message.attachments.map((a) => ({
      filename: a.filename,
      content: a.content,
      content_type: mimeType(a),
      content_id: a.content_id,
    }))),
    tags: some(tags),
  };
}

/** The outcome of a request Resend refused, from the error's name. */
function failure(reply: HttpReply): SendOutcome {
  const json = parseJson(reply.body);
  const name = typeof json?.name === 'string' ? json.name : undefined;
  const detail = json === null ? undefined : `${name ?? 'error'}: ${String(json.message)}`;
  return classified(reply, detail, name === undefined ? undefined : errorNames[name]);
}

/** A batch's answer, {"data": [{"id"}, ...]}, one id per email in order. */
function batchIds(reply: HttpReply, count: number): string[] | null {
  const data = parseJson(reply.body)?.data;
  if (!Array.isArray(data) || data.length !== count) return null;
  const ids = data.map((entry: unknown) => (entry as { id?: unknown } | null)?.id);
  return ids.every((id): id is string => typeof id === 'string') ? ids : null;
}

export const resend: ProviderKind<ResendSettings> = {
  batch: { maxMessages: 100, maxBytes: 40_000_000, attachments: false },
  parse(raw) {
    onlyFields(raw, ['api_key', 'base_url']);
    return { provider: 'resend', api_key: requiredString(raw, 'api_key'), base_url: baseUrl(raw, 'https://api.resend.com') };
  },
  secrets: (settings) => [settings.api_key],
  create(settings) {
    const authorization = `Bearer ${settings.api_key}`;
    const send = async (message: EmailMessage, context: SendContext): Promise<SendOutcome> => {
      const reply = await postJson(context, `${settings.base_url}/emails`, { authorization, 'idempotency-key': message.id }, payload(message));
      if (!isReply(reply)) return reply;
      if (!isSuccess(reply)) return failure(reply);
      const id = parseJson(reply.body)?.id;
      return typeof id === 'string' ? { outcome: 'ok', providerMessageId: id } : malformed(reply);
    };
    const sendBatch = async (messages: readonly EmailMessage[], context: SendContext): Promise<SendOutcome[]> => {
      // Strict validation (pinned, though it is the default): one invalid email refuses the whole
      // batch and nothing is sent, so the answer can be asked for email by email, below.
      const headers = { authorization, 'x-batch-validation': 'strict' };
      const reply = await postJson(context, `${settings.base_url}/emails/batch`, headers, messages.map(payload));
      if (!isReply(reply)) return messages.map(() => reply);
      if (isSuccess(reply)) {
        const ids = batchIds(reply, messages.length);
        return ids === null ? messages.map(() => malformed(reply)) : ids.map((id) => ({ outcome: 'ok', providerMessageId: id }));
      }
      const outcome = failure(reply);
      // A refused batch (a 4xx other than auth and rate limits) sent nothing: each email is sent on
      // its own, so only the invalid one fails and the rest are delivered, each with its own key.
      if (outcome.outcome === 'permanent' && outcome.code === 'REJECTED') return Promise.all(messages.map((message) => send(message, context)));
      return messages.map(() => outcome);
    };
    return {
      send,
      async sendBatch(messages, context) {
        // The batch endpoint drops attachments without a word: such emails go one by one.
        const batchable = messages.filter((message) => message.attachments.length === 0);
        if (batchable.length < 2) return Promise.all(messages.map((message) => send(message, context)));
        const [batched, alone] = await Promise.all([
          sendBatch(batchable, context),
          Promise.all(messages.map((message) => (message.attachments.length === 0 ? null : send(message, context)))),
        ]);
        let next = 0;
        return alone.map((outcome) => outcome ?? batched[next++]!);
      },
    };
  },
};

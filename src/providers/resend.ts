// Resend: https://resend.com/docs/api-reference/emails/send-email
// The email id travels as Idempotency-Key, so a retry after a timeout or a crash is not a
// second email (Resend keeps keys for 24 hours).
import type { EmailMessage } from '../email/message.ts';
import { classified, isReply, isSuccess, malformed, parseJson, postJson, type ErrorClass } from './http.ts';
import { mimeType, some, someRecord } from './fields.ts';
import type { ProviderKind } from './provider.ts';
import { keepingSecrets } from './secrets.ts';
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

export const resend: ProviderKind<ResendSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_key', 'base_url']);
    return { provider: 'resend', api_key: requiredString(raw, 'api_key'), base_url: baseUrl(raw, 'https://api.resend.com') };
  },
  origin: (settings) => new URL(settings.base_url).origin,
  create(settings) {
    return keepingSecrets([settings.api_key], {
      async send(message, context) {
        const headers = { authorization: `Bearer ${settings.api_key}`, 'idempotency-key': message.id };
        const reply = await postJson(context, `${settings.base_url}/emails`, headers, payload(message));
        if (!isReply(reply)) return reply;
        const json = parseJson(reply.body);
        if (isSuccess(reply)) {
          return typeof json?.id === 'string' ? { outcome: 'ok', providerMessageId: json.id } : malformed(reply);
        }
        const name = typeof json?.name === 'string' ? json.name : undefined;
        const detail = json === null ? undefined : `${name ?? 'error'}: ${String(json.message)}`;
        return classified(reply, detail, name === undefined ? undefined : errorNames[name]);
      },
    });
  },
};

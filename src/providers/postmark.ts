// Postmark's /email endpoint: https://postmarkapp.com/developer/api/email-api
import type { EmailMessage } from '../email/message.ts';
import { classified, isReply, isSuccess, malformed, parseJson, postJson, type ErrorClass } from './http.ts';
import type { ProviderKind } from './provider.ts';
import { keepingSecrets } from './secrets.ts';
import { baseUrl, onlyFields, optionalString, requiredString } from './settings.ts';

export interface PostmarkSettings {
  provider: 'postmark';
  server_token: string;
  message_stream: string;
  base_url: string;
}

// Postmark answers 422 for most refusals and says why in ErrorCode
// (https://postmarkapp.com/developer/api/overview#error-codes); the rest keep the status default.
const errorCodes: Record<number, ErrorClass> = {
  10: { outcome: 'permanent', code: 'AUTH_FAILED' },
  100: { outcome: 'retryable', code: 'PROVIDER_UNAVAILABLE' }, // maintenance
  300: { outcome: 'permanent', code: 'REJECTED' }, // invalid email request
  400: { outcome: 'permanent', code: 'SENDER_REJECTED' }, // sender signature not found
  401: { outcome: 'permanent', code: 'SENDER_REJECTED' }, // sender signature not confirmed
  405: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' }, // not allowed to send (out of credits)
  406: { outcome: 'permanent', code: 'RECIPIENT_REJECTED' }, // inactive recipient
  412: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' }, // account pending approval
  413: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' }, // account may not send
  429: { outcome: 'retryable', code: 'RATE_LIMITED' },
};

function payload(message: EmailMessage, stream: string): Record<string, unknown> {
  const list = (addresses: string[]) => (addresses.length > 0 ? addresses.join(', ') : undefined);
  return {
    From: message.from,
    To: list(message.to),
    Cc: list(message.cc),
    Bcc: list(message.bcc),
    ReplyTo: list(message.reply_to),
    Subject: message.subject,
    TextBody: message.text,
    HtmlBody: message.html,
    MessageStream: stream,
    // Postmark takes one tag; the rest stay in the queue's own record.
    Tag: message.tags[0],
    Metadata: Object.keys(message.metadata).length > 0 ? message.metadata : undefined,
    Headers: Object.entries(message.headers).map(([Name, Value]) => ({ Name, Value })),
    Attachments: message.attachments.map((a) => ({
      Name: a.filename,
      Content: a.content,
      ContentType: a.content_type ?? 'application/octet-stream',
      ContentID: a.content_id === undefined ? undefined : `cid:${a.content_id}`,
    })),
  };
}

export const postmark: ProviderKind<PostmarkSettings> = {
  parse(raw) {
    onlyFields(raw, ['server_token', 'message_stream', 'base_url']);
    return {
      provider: 'postmark',
      server_token: requiredString(raw, 'server_token'),
      message_stream: optionalString(raw, 'message_stream') ?? 'outbound',
      base_url: baseUrl(raw, 'https://api.postmarkapp.com'),
    };
  },
  origin: (settings) => new URL(settings.base_url).origin,
  create(settings) {
    const headers = { 'x-postmark-server-token': settings.server_token };
    return keepingSecrets([settings.server_token], {
      async send(message, context) {
        const reply = await postJson(context, `${settings.base_url}/email`, headers, payload(message, settings.message_stream));
        if (!isReply(reply)) return reply;
        const json = parseJson(reply.body);
        if (isSuccess(reply)) {
          if (typeof json?.MessageID !== 'string') return malformed(reply);
          return { outcome: 'ok', providerMessageId: json.MessageID };
        }
        const errorCode = typeof json?.ErrorCode === 'number' ? json.ErrorCode : undefined;
        const detail = json === null ? undefined : `ErrorCode ${String(json.ErrorCode)}: ${String(json.Message)}`;
        return classified(reply, detail, errorCode === undefined ? undefined : errorCodes[errorCode]);
      },
    });
  },
};

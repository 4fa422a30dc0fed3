// Postmark's /email endpoint: https://postmarkapp.com/developer/api/email-api
import type { EmailMessage } from '../email/message.ts';
import { exchange, failureFromStatus, isReply, parseJson } from './http.ts';
import type { ProviderKind } from './provider.ts';
import { baseUrl, onlyFields, optionalString, requiredString } from './settings.ts';

export interface PostmarkSettings {
  provider: 'postmark';
  server_token: string;
  message_stream: string;
  base_url: string;
}

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
    return {
      async send(message, context) {
        const reply = await exchange(context, `${settings.base_url}/email`, {
          headers: {
            accept: 'application/json',
            'content-type': 'application/json',
            'x-postmark-server-token': settings.server_token,
          },
          body: JSON.stringify(payload(message, settings.message_stream)),
        });
        if (!isReply(reply)) return reply;
        const json = parseJson(reply.body);
        if (reply.status >= 200 && reply.status < 300) {
          return { outcome: 'ok', providerMessageId: typeof json?.MessageID === 'string' ? json.MessageID : null };
        }
        const detail = json === null ? undefined : `ErrorCode ${String(json.ErrorCode)}: ${String(json.Message)}`;
        return failureFromStatus(reply, detail);
      },
    };
  },
};

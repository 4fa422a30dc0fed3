// SendGrid v3 Mail Send: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
// Success is 202 with an empty body; the message id arrives in the X-Message-Id header.
import type { EmailMessage } from '../email/message.ts';
import { failureFromStatus, header, isReply, isSuccess, malformed, parseJson, postJson } from './http.ts';
import { address, inlineAttachments, mimeType, regularAttachments, some, someRecord } from './fields.ts';
import type { ProviderKind } from './provider.ts';
import { baseUrl, onlyFields, requiredString } from './settings.ts';

export interface SendgridSettings {
  provider: 'sendgrid';
  api_key: string;
  base_url: string;
}

function payload(message: EmailMessage): Record<string, unknown> {
  const content = [];
  // SendGrid requires text/plain before text/html.
  if (message.text !== undefined) content.push({ type: 'text/plain', value: message.text });
  if (message.html !== undefined) content.push({ type: 'text/html', value: message.html });
  const attachments = [
    ...regularAttachments(message).map((a) => ({ content: a.content, filename: a.filename, type: mimeType(a), disposition: 'attachment' })),
    ...inlineAttachments(message).map((a) => ({ content: a.content, filename: a.filename, type: mimeType(a), disposition: 'inline', content_id: a.content_id })),
  ];
  return {
    personalizations: [{
      to: some(message.to.map(address)),
      cc: some(message.cc.map(address)),
      bcc: some(message.bcc.map(address)),
    }],
    from: address(message.from),
    reply_to_list: some(message.reply_to.map(address)),
    subject: message.subject,
    content: some(content),
    attachments: some(attachments),
    headers: someRecord(message.headers),
    // SendGrid allows at most 10 categories.
    categories: some(message.tags.slice(0, 10)),
    custom_args: someRecord(message.metadata),
  };
}

export const sendgrid: ProviderKind<SendgridSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_key', 'base_url']);
    return {
      provider: 'sendgrid',
      api_key: requiredString(raw, 'api_key'),
      base_url: baseUrl(raw, 'https://api.sendgrid.com'),
    };
  },
  secrets: (settings) => [settings.api_key],
  create(settings) {
    const headers = { authorization: `Bearer ${settings.api_key}` };
    return {
      async send(message, context) {
        const reply = await postJson(context, `${settings.base_url}/v3/mail/send`, headers, payload(message));
        if (!isReply(reply)) return reply;
        if (isSuccess(reply)) {
          // Every accepted send carries X-Message-Id; a 2xx without it did not come from SendGrid.
          const id = header(reply, 'x-message-id');
          return id === undefined ? malformed(reply) : { outcome: 'ok', providerMessageId: id };
        }
        const errors = parseJson(reply.body)?.errors;
        const detail = Array.isArray(errors)
          ? errors.map((e: { field?: string; message?: string }) => (e.field ? `${e.field}: ${e.message}` : String(e.message))).join('; ')
          : undefined;
        return failureFromStatus(reply, detail);
      },
    };
  },
};

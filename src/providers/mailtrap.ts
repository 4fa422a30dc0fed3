// Mailtrap Email Sending: https://api-docs.mailtrap.io/docs/mailtrap-api-docs/
// With inbox_id set, sends go to that Email Testing (sandbox) inbox instead of real recipients.
import type { EmailMessage } from '../email/message.ts';
import { classified, failureFromStatus, isReply, isSuccess, malformed, parseJson, postJson } from './http.ts';
import { address, headersWithReplyTo, mimeType, some, someRecord } from './fields.ts';
import type { ProviderKind } from './provider.ts';
import { baseUrl, onlyFields, optionalInteger, requiredString } from './settings.ts';

export interface MailtrapSettings {
  provider: 'mailtrap';
  api_token: string;
  inbox_id?: number;
  base_url: string;
}

function payload(message: EmailMessage): Record<string, unknown> {
  return {
    from: address(message.from),
    to: some(message.to.map(address)),
    cc: some(message.cc.map(address)),
    bcc: some(message.bcc.map(address)),
    subject: message.subject,
    text: message.text,
    html: message.html,
    // Reply-To as a header: Mailtrap's API field takes one address.
    headers: someRecord(headersWithReplyTo(message)),
    attachments: some(message.attachments.map((a) => ({
      content: a.content,
      filename: a.filename,
      type: mimeType(a),
      disposition: a.content_id === undefined ? 'attachment' : 'inline',
      content_id: a.content_id,
    }))),
    // Mailtrap takes one category per email.
    category: message.tags[0],
    custom_variables: someRecord(message.metadata),
  };
}

function errorsOf(json: Record<string, unknown> | null): string | undefined {
  if (json === null) return undefined;
  const errors = json.errors ?? json.error;
  return Array.isArray(errors) ? errors.map(String).join('; ') : typeof errors === 'string' ? errors : undefined;
}

export const mailtrap: ProviderKind<MailtrapSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_token', 'inbox_id', 'base_url']);
    const inboxId = optionalInteger(raw, 'inbox_id', 1, Number.MAX_SAFE_INTEGER);
    return {
      provider: 'mailtrap',
      api_token: requiredString(raw, 'api_token'),
      inbox_id: inboxId,
      base_url: baseUrl(raw, inboxId === undefined ? 'https://send.api.mailtrap.io' : 'https://sandbox.api.mailtrap.io'),
    };
  },
  secrets: (settings) => [settings.api_token],
  create(settings) {
    const headers = { authorization: `Bearer ${settings.api_token}` };
    const url = `${settings.base_url}/api/send${settings.inbox_id === undefined ? '' : `/${settings.inbox_id}`}`;
    return {
      async send(message, context) {
        const reply = await postJson(context, url, headers, payload(message));
        if (!isReply(reply)) return reply;
        const json = parseJson(reply.body);
        if (isSuccess(reply)) {
          const ids = json?.message_ids;
          if (json?.success === true && Array.isArray(ids)) return { outcome: 'ok', providerMessageId: ids.length > 0 ? String(ids[0]) : null };
          if (json?.success === false) return classified(reply, errorsOf(json), { outcome: 'permanent', code: 'REJECTED' });
          return malformed(reply);
        }
        return failureFromStatus(reply, errorsOf(json));
      },
    };
  },
};

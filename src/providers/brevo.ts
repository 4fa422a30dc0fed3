// Brevo (formerly Sendinblue) transactional email: https://developers.brevo.com/reference/sendtransacemail
// The email id goes in headers.idempotencyKey (Brevo's documented place for it), so a retry
// within Brevo's window is not a second email.
import type { EmailMessage } from '../email/message.ts';
import { failureFromStatus, isReply, isSuccess, malformed, parseJson, postJson } from './http.ts';
import { address, some } from './fields.ts';
import type { ProviderKind } from './provider.ts';
import { baseUrl, onlyFields, requiredString } from './settings.ts';

export interface BrevoSettings {
  provider: 'brevo';
  api_key: string;
  base_url: string;
}

function payload(message: EmailMessage): Record<string, unknown> {
  const headers: Record<string, string> = { ...message.headers, idempotencyKey: message.id };
  // Brevo's replyTo takes one address; more go in the header.
  if (message.reply_to.length > 1) headers['Reply-To'] = message.reply_to.join(', ');
  // Brevo returns X-Mailin-custom in its webhooks: the metadata comes back with each event.
  if (Object.keys(message.metadata).length > 0) headers['X-Mailin-custom'] = JSON.stringify(message.metadata);
  return {
    sender: address(message.from),
    to: some(message.to.map(address)),
    cc: some(message.cc.map(address)),
    bcc: some(message.bcc.map(address)),
    replyTo: message.reply_to.length === 1 ? address(message.reply_to[0] as string) : undefined,
    subject: message.subject,
    textContent: message.text,
    htmlContent: message.html,
    headers,
    // Brevo has no inline parts: inline attachments arrive as ordinary ones.
    attachment: some(message.attachments.map((a) => ({ name: a.filename, content: a.content }))),
    tags: some(message.tags),
  };
}

export const brevo: ProviderKind<BrevoSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_key', 'base_url']);
    return { provider: 'brevo', api_key: requiredString(raw, 'api_key'), base_url: baseUrl(raw, 'https://api.brevo.com') };
  },
  secrets: (settings) => [settings.api_key],
  create(settings) {
    const headers = { 'api-key': settings.api_key };
    return {
      async send(message, context) {
        const reply = await postJson(context, `${settings.base_url}/v3/smtp/email`, headers, payload(message));
        if (!isReply(reply)) return reply;
        const json = parseJson(reply.body);
        if (isSuccess(reply)) {
          return typeof json?.messageId === 'string' ? { outcome: 'ok', providerMessageId: json.messageId } : malformed(reply);
        }
        const detail = json === null ? undefined : `${String(json.code)}: ${String(json.message)}`;
        return failureFromStatus(reply, detail);
      },
    };
  },
};

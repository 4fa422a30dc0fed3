// MailerSend: https://developers.mailersend.com/api/v1/email.html#send-an-email
// Success is 202 with the id in X-Message-Id. A 202 can also say that recipients were
// suppressed: with ALL_SUPPRESSED nothing is sent and no id comes back.
import type { EmailMessage } from '../email/message.ts';
import { failureFromStatus, header, isReply, isSuccess, malformed, parseJson, postJson, type HttpReply } from './http.ts';
import { address, mimeType, some } from './fields.ts';
import type { ProviderKind, SendOutcome } from './provider.ts';
import { baseUrl, onlyFields, requiredString } from './settings.ts';

export interface MailersendSettings {
  provider: 'mailersend';
  api_token: string;
  base_url: string;
}

function payload(message: EmailMessage): Record<string, unknown> {
  const headers = Object.entries(message.headers).map(([name, value]) => ({ name, value }));
  if (message.reply_to.length > 1) headers.push({ name: 'Reply-To', value: message.reply_to.join(', ') });
  return {
    from: address(message.from),
    to: some(message.to.map(address)),
    cc: some(message.cc.map(address)),
    bcc: some(message.bcc.map(address)),
    reply_to: message.reply_to.length === 1 ? address(message.reply_to[0] as string) : undefined,
    subject: message.subject,
    text: message.text,
    html: message.html,
    attachments: some(message.attachments.map((a) => ({
      content: a.content,
      filename: a.filename,
      disposition: a.content_id === undefined ? 'attachment' : 'inline',
      id: a.content_id,
      type: mimeType(a),
    }))),
    tags: some(message.tags.slice(0, 5)),
    // Custom headers are an Enterprise feature: send them only when the email has some.
    headers: some(headers),
  };
}

interface Warning {
  type?: string;
  warning?: string;
}

function success(reply: HttpReply): SendOutcome {
  const id = header(reply, 'x-message-id');
  if (id !== undefined) return { outcome: 'ok', providerMessageId: id };
  const warnings = parseJson(reply.body)?.warnings;
  if (Array.isArray(warnings)) {
    const all = (warnings as Warning[]).find((w) => w.type === 'ALL_SUPPRESSED');
    if (all !== undefined) {
      return { outcome: 'permanent', code: 'RECIPIENT_REJECTED', message: `HTTP ${reply.status}: ALL_SUPPRESSED: ${all.warning ?? ''}`.slice(0, 500) };
    }
  }
  return malformed(reply);
}

export const mailersend: ProviderKind<MailersendSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_token', 'base_url']);
    return { provider: 'mailersend', api_token: requiredString(raw, 'api_token'), base_url: baseUrl(raw, 'https://api.mailersend.com') };
  },
  secrets: (settings) => [settings.api_token],
  create(settings) {
    const headers = { authorization: `Bearer ${settings.api_token}` };
    return {
      async send(message, context) {
        const reply = await postJson(context, `${settings.base_url}/v1/email`, headers, payload(message));
        if (!isReply(reply)) return reply;
        if (isSuccess(reply)) return success(reply);
        const json = parseJson(reply.body);
        const errors = json?.errors;
        const fields = errors !== null && typeof errors === 'object' ? ` ${JSON.stringify(errors)}` : '';
        return failureFromStatus(reply, json === null ? undefined : `${String(json.message)}${fields}`);
      },
    };
  },
};

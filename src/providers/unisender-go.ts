// Unisender Go: https://godocs.unisender.ru/web-api-ref#email-send
// Unisender Go sends each recipient a copy of its own and has no cc or bcc, so cc and bcc
// addresses become recipients too. A 200 may list failed_emails: the email counts as sent
// when any recipient was accepted.
import type { EmailMessage } from '../email/message.ts';
import { classified, failureFromStatus, isReply, isSuccess, malformed, parseJson, postJson, type HttpReply } from './http.ts';
import { address, inlineAttachments, mimeType, regularAttachments, some, someRecord } from './fields.ts';
import type { ProviderKind, SendOutcome } from './provider.ts';
import { SettingsError, baseUrl, onlyFields, requiredString } from './settings.ts';

export interface UnisenderGoSettings {
  provider: 'unisender_go';
  api_key: string;
  base_url: string;
}

function payload(message: EmailMessage): Record<string, unknown> {
  const from = address(message.from);
  const replyTo = message.reply_to.length > 0 ? address(message.reply_to[0] as string) : undefined;
  const headers: Record<string, string> = { ...message.headers };
  if (message.reply_to.length > 1) headers['Reply-To'] = message.reply_to.join(', ');
  return {
    message: {
      recipients: [...message.to, ...message.cc, ...message.bcc].map((input) => {
        const { email, name } = address(input);
        return name === undefined ? { email } : { email, substitutions: { to_name: name } };
      }),
      subject: message.subject,
      from_email: from.email,
      from_name: from.name,
      reply_to: message.reply_to.length === 1 ? replyTo?.email : undefined,
      reply_to_name: message.reply_to.length === 1 ? replyTo?.name : undefined,
      body: { plaintext: message.text, html: message.html },
      headers: someRecord(headers),
      attachments: some(regularAttachments(message).map((a) => ({ type: mimeType(a), name: a.filename, content: a.content }))),
      inline_attachments: some(inlineAttachments(message).map((a) => ({ type: mimeType(a), name: a.content_id, content: a.content }))),
      tags: some(message.tags),
      global_metadata: someRecord(message.metadata),
    },
  };
}

function success(reply: HttpReply): SendOutcome {
  const json = parseJson(reply.body);
  if (json?.status !== 'success' || typeof json.job_id !== 'string') return malformed(reply);
  const accepted = Array.isArray(json.emails) ? json.emails.length : 0;
  const failed = json.failed_emails !== null && typeof json.failed_emails === 'object' ? (json.failed_emails as Record<string, string>) : {};
  if (accepted === 0 && Object.keys(failed).length > 0) {
    const reasons = Object.entries(failed).map(([email, reason]) => `${email}: ${reason}`).join('; ');
    // temporary_unavailable may clear; invalid, unsubscribed and permanent_unavailable will not.
    const temporary = Object.values(failed).every((reason) => reason === 'temporary_unavailable');
    return classified(reply, reasons, temporary ? { outcome: 'retryable', code: 'RECIPIENT_DEFERRED' } : { outcome: 'permanent', code: 'RECIPIENT_REJECTED' });
  }
  return { outcome: 'ok', providerMessageId: json.job_id };
}

export const unisenderGo: ProviderKind<UnisenderGoSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_key', 'base_url']);
    // The API host depends on the account's data centre (go1 or go2): no default guesses it.
    if (raw.base_url === undefined) throw new SettingsError('base_url is required (https://go1.unisender.ru or https://go2.unisender.ru, as your account shows)');
    return { provider: 'unisender_go', api_key: requiredString(raw, 'api_key'), base_url: baseUrl(raw, '') };
  },
  secrets: (settings) => [settings.api_key],
  create(settings) {
    const headers = { 'x-api-key': settings.api_key };
    const url = `${settings.base_url}/ru/transactional/api/v1/email/send.json`;
    return {
      async send(message, context) {
        const reply = await postJson(context, url, headers, payload(message));
        if (!isReply(reply)) return reply;
        if (isSuccess(reply)) return success(reply);
        const json = parseJson(reply.body);
        return failureFromStatus(reply, json === null ? undefined : `${String(json.code ?? 'error')}: ${String(json.message)}`);
      },
    };
  },
};

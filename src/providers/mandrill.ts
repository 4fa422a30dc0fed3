// Mandrill (Mailchimp Transactional): https://mailchimp.com/developer/transactional/api/messages/send-new-message/
// Mandrill answers most errors with HTTP 500 and names them in the body, so a bad key must be
// told apart from an outage by name. A 200 lists each recipient's status: the email counts as
// sent when any recipient was accepted, and as rejected when none was.
import type { EmailMessage } from '../email/message.ts';
import { classified, isReply, isSuccess, malformed, parseJson, postJson, type ErrorClass, type HttpReply } from './http.ts';
import { address, headersWithReplyTo, inlineAttachments, mimeType, regularAttachments, some, someRecord } from './fields.ts';
import type { ProviderKind, SendOutcome } from './provider.ts';
import { baseUrl, onlyFields, requiredString } from './settings.ts';

export interface MandrillSettings {
  provider: 'mandrill';
  key: string;
  base_url: string;
}

const errorNames: Record<string, ErrorClass> = {
  Invalid_Key: { outcome: 'permanent', code: 'AUTH_FAILED' },
  PaymentRequired: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' },
  Unknown_Subaccount: { outcome: 'permanent', code: 'REJECTED' },
  ValidationError: { outcome: 'permanent', code: 'REJECTED' },
  GeneralError: { outcome: 'retryable', code: 'PROVIDER_UNAVAILABLE' },
};

function payload(message: EmailMessage, key: string): Record<string, unknown> {
  const from = address(message.from);
  const recipients = (list: string[], type: 'to' | 'cc' | 'bcc') => list.map((input) => ({ ...address(input), type }));
  return {
    key,
    message: {
      from_email: from.email,
      from_name: from.name,
      to: [...recipients(message.to, 'to'), ...recipients(message.cc, 'cc'), ...recipients(message.bcc, 'bcc')],
      // One message with every To/Cc visible, as the email was written, not one per recipient.
      preserve_recipients: true,
      subject: message.subject,
      text: message.text,
      html: message.html,
      headers: someRecord(headersWithReplyTo(message)),
      attachments: some(regularAttachments(message).map((a) => ({ type: mimeType(a), name: a.filename, content: a.content }))),
      images: some(inlineAttachments(message).map((a) => ({ type: mimeType(a), name: a.content_id, content: a.content }))),
      tags: some(message.tags),
      metadata: someRecord(message.metadata),
    },
  };
}

interface RecipientStatus {
  email?: string;
  status?: string;
  reject_reason?: string | null;
  _id?: string;
}

function success(reply: HttpReply): SendOutcome {
  const json: unknown = (() => {
    try {
      return JSON.parse(reply.body);
    } catch {
      return null;
    }
  })();
  if (!Array.isArray(json)) return malformed(reply);
  const statuses = json as RecipientStatus[];
  const accepted = statuses.find((s) => s.status === 'sent' || s.status === 'queued' || s.status === 'scheduled');
  if (accepted !== undefined) return { outcome: 'ok', providerMessageId: accepted._id ?? null };
  if (statuses.length === 0) return malformed(reply);
  const reasons = statuses.map((s) => `${s.email}: ${s.status}${s.reject_reason ? ` (${s.reject_reason})` : ''}`).join('; ');
  return classified(reply, reasons, { outcome: 'permanent', code: 'RECIPIENT_REJECTED' });
}

export const mandrill: ProviderKind<MandrillSettings> = {
  parse(raw) {
    onlyFields(raw, ['key', 'base_url']);
    return { provider: 'mandrill', key: requiredString(raw, 'key'), base_url: baseUrl(raw, 'https://mandrillapp.com') };
  },
  secrets: (settings) => [settings.key],
  create(settings) {
    return {
      async send(message, context) {
        // Mandrill authenticates by the key in the body, never a header.
        const reply = await postJson(context, `${settings.base_url}/api/1.0/messages/send`, {}, payload(message, settings.key));
        if (!isReply(reply)) return reply;
        if (isSuccess(reply)) return success(reply);
        const json = parseJson(reply.body);
        const name = typeof json?.name === 'string' ? json.name : undefined;
        const detail = json === null ? undefined : `${name ?? 'error'}: ${String(json.message)}`;
        return classified(reply, detail, name === undefined ? undefined : errorNames[name]);
      },
    };
  },
};

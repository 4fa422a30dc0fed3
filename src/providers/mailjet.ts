// Mailjet Send API v3.1: https://dev.mailjet.com/email/reference/send-emails/
// v3.1 reports each message on its own: "In case of errors on one or several of the messages,
// the API will not stop the processing of other successful messages." So the message's own
// Status decides, not the HTTP status: a message marked "success" was sent even when the reply
// is a 400, and treating it as failed would send it twice.
import type { EmailMessage } from '../email/message.ts';
import { failureFromStatus, isReply, isSuccess, malformed, parseJson, postJson, type HttpReply } from './http.ts';
import { address, inlineAttachments, mimeType, regularAttachments, some, someRecord } from './fields.ts';
import type { ProviderKind, SendOutcome } from './provider.ts';
import { baseUrl, onlyFields, requiredString } from './settings.ts';

export interface MailjetSettings {
  provider: 'mailjet';
  api_key: string;
  secret_key: string;
  base_url: string;
}

function mailjetAddress(input: string): { Email: string; Name?: string } {
  const { email, name } = address(input);
  return { Email: email, Name: name };
}

function payload(message: EmailMessage): Record<string, unknown> {
  const headers: Record<string, string> = { ...message.headers };
  if (message.reply_to.length > 1) headers['Reply-To'] = message.reply_to.join(', ');
  return {
    Messages: [{
      From: mailjetAddress(message.from),
      To: some(message.to.map(mailjetAddress)),
      Cc: some(message.cc.map(mailjetAddress)),
      Bcc: some(message.bcc.map(mailjetAddress)),
      ReplyTo: message.reply_to.length === 1 ? mailjetAddress(message.reply_to[0] as string) : undefined,
      Subject: message.subject,
      TextPart: message.text,
      HTMLPart: message.html,
      Headers: someRecord(headers),
      Attachments: some(regularAttachments(message).map((a) => ({ ContentType: mimeType(a), Filename: a.filename, Base64Content: a.content }))),
      InlinedAttachments: some(inlineAttachments(message).map((a) => ({
        ContentType: mimeType(a), Filename: a.filename, ContentID: a.content_id, Base64Content: a.content,
      }))),
      // CustomID comes back in Mailjet's events, tying them to the queue's email.
      CustomID: message.id,
      EventPayload: Object.keys(message.metadata).length > 0 ? JSON.stringify(message.metadata) : undefined,
      CustomCampaign: message.tags[0],
    }],
  };
}

interface MailjetError {
  ErrorCode?: string;
  ErrorMessage?: string;
  StatusCode?: number;
  ErrorRelatedTo?: string[];
}

function outcomeOf(reply: HttpReply): SendOutcome {
  const json = parseJson(reply.body);
  const messages = json?.Messages;
  const result = Array.isArray(messages) ? (messages[0] as Record<string, unknown> | undefined) : undefined;
  if (result?.Status === 'success') {
    // MessageUUID, not MessageID: Mailjet's numeric ids exceed 2^53 and JSON.parse would round
    // them. Mailjet's events carry the same value as Message_GUID.
    const to = Array.isArray(result.To) ? (result.To[0] as { MessageUUID?: unknown } | undefined) : undefined;
    return { outcome: 'ok', providerMessageId: typeof to?.MessageUUID === 'string' ? to.MessageUUID : null };
  }
  if (result?.Status === 'error' && Array.isArray(result.Errors)) {
    const errors = result.Errors as MailjetError[];
    const detail = errors.map((e) => `${e.ErrorCode ?? 'error'}: ${e.ErrorMessage ?? ''}${e.ErrorRelatedTo ? ` (${e.ErrorRelatedTo.join(', ')})` : ''}`).join('; ');
    // The per-message StatusCode is what this message met (a 200 reply can carry a 400 message).
    const status = typeof errors[0]?.StatusCode === 'number' ? errors[0].StatusCode : reply.status;
    return failureFromStatus({ ...reply, status: isSuccess({ ...reply, status }) ? 400 : status }, detail);
  }
  if (isSuccess(reply)) return malformed(reply);
  // Request-level failures (bad credentials, rate limit) have no Messages array.
  const detail = typeof json?.ErrorMessage === 'string' ? json.ErrorMessage : undefined;
  return failureFromStatus(reply, detail);
}

/** The Basic credential: its base64 form is a secret of its own, scrubbed like the key. */
function credentials(settings: MailjetSettings): string {
  return Buffer.from(`${settings.api_key}:${settings.secret_key}`).toString('base64');
}

export const mailjet: ProviderKind<MailjetSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_key', 'secret_key', 'base_url']);
    return {
      provider: 'mailjet',
      api_key: requiredString(raw, 'api_key'),
      secret_key: requiredString(raw, 'secret_key'),
      base_url: baseUrl(raw, 'https://api.mailjet.com'),
    };
  },
  secrets: (settings) => [settings.secret_key, credentials(settings)],
  create(settings) {
    const headers = { authorization: `Basic ${credentials(settings)}` };
    return {
      async send(message, context) {
        const reply = await postJson(context, `${settings.base_url}/v3.1/send`, headers, payload(message));
        return isReply(reply) ? outcomeOf(reply) : reply;
      },
    };
  },
};

// SparkPost Transmissions: https://developers.sparkpost.com/api/transmissions/
// Every recipient is listed in `recipients`; header_to keeps the visible To header, and cc
// goes in a CC header, the way SparkPost documents cc and bcc. The email id is sent as
// Idempotency-Key, so a retry after an unknown outcome is not a second email.
import type { EmailMessage } from '../email/message.ts';
import { classified, isReply, isSuccess, malformed, parseJson, postJson, type ErrorClass, type HttpReply } from './http.ts';
import { bare, inlineAttachments, mimeType, regularAttachments, some, someRecord } from './fields.ts';
import type { ProviderKind, SendOutcome } from './provider.ts';
import { baseUrl, onlyFields, optionalString, region, requiredString } from './settings.ts';

export interface SparkpostSettings {
  provider: 'sparkpost';
  api_key: string;
  subaccount?: string;
  base_url: string;
}

const regions = { us: 'https://api.sparkpost.com', eu: 'https://api.eu.sparkpost.com' };

// SparkPost error codes (https://developers.sparkpost.com/api/#header-error-codes); sending
// limits answer HTTP 420, which a status-only reading would call permanent.
const errorCodes: Record<string, ErrorClass> = {
  '1902': { outcome: 'permanent', code: 'REJECTED' }, // message generation rejected
  '2101': { outcome: 'retryable', code: 'RATE_LIMITED' }, // exceeded sending limit (hourly)
  '2102': { outcome: 'retryable', code: 'RATE_LIMITED' }, // exceeded sending limit (daily)
  '2103': { outcome: 'retryable', code: 'RATE_LIMITED' }, // exceeded sending limit (monthly)
  '7001': { outcome: 'permanent', code: 'SENDER_REJECTED' }, // unconfigured sending domain
};

function payload(message: EmailMessage): Record<string, unknown> {
  const headerTo = message.to.join(', ');
  const recipients = [...message.to, ...message.cc, ...message.bcc].map((input) => ({ address: { email: bare(input), header_to: headerTo || undefined } }));
  const headers: Record<string, string> = { ...message.headers };
  if (message.cc.length > 0) headers.CC = message.cc.join(', ');
  return {
    recipients,
    content: {
      from: message.from,
      subject: message.subject,
      text: message.text,
      html: message.html,
      reply_to: message.reply_to.length > 0 ? message.reply_to.join(', ') : undefined,
      headers: someRecord(headers),
      attachments: some(regularAttachments(message).map((a) => ({ name: a.filename, type: mimeType(a), data: a.content }))),
      inline_images: some(inlineAttachments(message).map((a) => ({ name: a.content_id, type: mimeType(a), data: a.content }))),
    },
    metadata: someRecord(message.metadata),
    campaign_id: message.tags[0],
  };
}

function success(reply: HttpReply): SendOutcome {
  const results = parseJson(reply.body)?.results as { id?: unknown; total_accepted_recipients?: unknown; total_rejected_recipients?: unknown } | undefined;
  if (typeof results?.id !== 'string') return malformed(reply);
  if (results.total_accepted_recipients === 0 && Number(results.total_rejected_recipients) > 0) {
    return classified(reply, `all ${String(results.total_rejected_recipients)} recipients rejected`, { outcome: 'permanent', code: 'RECIPIENT_REJECTED' });
  }
  return { outcome: 'ok', providerMessageId: results.id };
}

export const sparkpost: ProviderKind<SparkpostSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_key', 'region', 'subaccount', 'base_url']);
    return {
      provider: 'sparkpost',
      api_key: requiredString(raw, 'api_key'),
      subaccount: optionalString(raw, 'subaccount'),
      base_url: baseUrl(raw, region(raw, regions, 'us')),
    };
  },
  secrets: (settings) => [settings.api_key],
  create(settings) {
    return {
      async send(message, context) {
        const headers: Record<string, string> = { authorization: settings.api_key, 'idempotency-key': message.id };
        if (settings.subaccount !== undefined) headers['x-msys-subaccount'] = settings.subaccount;
        const reply = await postJson(context, `${settings.base_url}/api/v1/transmissions`, headers, payload(message));
        if (!isReply(reply)) return reply;
        if (isSuccess(reply)) return success(reply);
        const errors = parseJson(reply.body)?.errors;
        const list = Array.isArray(errors) ? (errors as Array<{ code?: string; message?: string; description?: string }>) : [];
        const detail = list.length > 0 ? list.map((e) => `${e.code ?? ''} ${e.message ?? ''}${e.description ? `: ${e.description}` : ''}`.trim()).join('; ') : undefined;
        const known = list.map((e) => (e.code === undefined ? undefined : errorCodes[e.code])).find((c) => c !== undefined);
        return classified(reply, detail, known ?? (reply.status === 420 ? { outcome: 'retryable', code: 'RATE_LIMITED' } : undefined));
      },
    };
  },
};

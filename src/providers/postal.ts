// Postal (self-hosted): https://docs.postalserver.io/developer/api
// Postal answers HTTP 200 to almost everything, errors included: the body's status field
// ("success", "error", "parameter-error") decides, and data.code names the error.
import type { EmailMessage } from '../email/message.ts';
import { classified, failureFromStatus, isReply, isSuccess, malformed, parseJson, postJson, type ErrorClass } from './http.ts';
import { mimeType, some, someRecord } from './fields.ts';
import type { ProviderKind } from './provider.ts';
import { SettingsError, baseUrl, onlyFields, requiredString } from './settings.ts';

export interface PostalSettings {
  provider: 'postal';
  api_key: string;
  base_url: string;
}

const errorCodes: Record<string, ErrorClass> = {
  InvalidServerAPIKey: { outcome: 'permanent', code: 'AUTH_FAILED' },
  AccessDenied: { outcome: 'permanent', code: 'AUTH_FAILED' },
  ServerSuspended: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' },
  UnauthenticatedFromAddress: { outcome: 'permanent', code: 'SENDER_REJECTED' },
  FromAddressMissing: { outcome: 'permanent', code: 'SENDER_REJECTED' },
};

function payload(message: EmailMessage): Record<string, unknown> {
  return {
    to: some(message.to),
    cc: some(message.cc),
    bcc: some(message.bcc),
    from: message.from,
    subject: message.subject,
    tag: message.tags[0],
    reply_to: message.reply_to.length > 0 ? message.reply_to.join(', ') : undefined,
    plain_body: message.text,
    html_body: message.html,
    headers: someRecord(message.headers),
    // Postal's send API has no inline parts: inline attachments arrive as ordinary ones.
    attachments: some(message.attachments.map((a) => ({ name: a.filename, content_type: mimeType(a), data: a.content }))),
  };
}

export const postal: ProviderKind<PostalSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_key', 'base_url']);
    // There is no hosted Postal: the server's own address is required.
    if (raw.base_url === undefined) throw new SettingsError('base_url is required (the address of your Postal server)');
    return { provider: 'postal', api_key: requiredString(raw, 'api_key'), base_url: baseUrl(raw, '') };
  },
  secrets: (settings) => [settings.api_key],
  create(settings) {
    const headers = { 'x-server-api-key': settings.api_key };
    return {
      async send(message, context) {
        const reply = await postJson(context, `${settings.base_url}/api/v1/send/message`, headers, payload(message));
        if (!isReply(reply)) return reply;
        const json = parseJson(reply.body);
        const data = (json?.data ?? undefined) as { message_id?: unknown; code?: unknown; message?: unknown } | undefined;
        if (json?.status === 'success') {
          return typeof data?.message_id === 'string' ? { outcome: 'ok', providerMessageId: data.message_id } : malformed(reply);
        }
        if (typeof json?.status === 'string') {
          const code = typeof data?.code === 'string' ? data.code : undefined;
          const detail = `${json.status}: ${code ?? ''} ${String(data?.message ?? '')}`.trim();
          // An error inside a 200 is still an error: permanent unless the table says otherwise.
          const fallback: ErrorClass | undefined = isSuccess(reply) ? { outcome: 'permanent', code: 'REJECTED' } : undefined;
          return classified(reply, detail, (code === undefined ? undefined : errorCodes[code]) ?? fallback);
        }
        return isSuccess(reply) ? malformed(reply) : failureFromStatus(reply);
      },
    };
  },
};

// Scaleway Transactional Email (TEM): https://www.scaleway.com/en/developers/api/transactional-email/
// Scaleway reports an exhausted quota as 403 with type "quotas_exceeded", which is a wait,
// not a refusal; other errors follow the status.
import type { EmailMessage } from '../email/message.ts';
import { classified, isReply, isSuccess, malformed, parseJson, postJson, type ErrorClass } from './http.ts';
import { address, headersWithReplyTo, mimeType, some } from './fields.ts';
import type { ProviderKind } from './provider.ts';
import { SettingsError, baseUrl, onlyFields, optionalString, requiredString } from './settings.ts';

export interface ScalewaySettings {
  provider: 'scaleway';
  secret_key: string;
  project_id: string;
  region: string;
  base_url: string;
}

const errorTypes: Record<string, ErrorClass> = {
  quotas_exceeded: { outcome: 'retryable', code: 'RATE_LIMITED' },
  denied_authentication: { outcome: 'permanent', code: 'AUTH_FAILED' },
  permissions_denied: { outcome: 'permanent', code: 'AUTH_FAILED' },
};

function payload(message: EmailMessage, projectId: string): Record<string, unknown> {
  // TEM has no reply-to or custom-header fields of its own, only additional_headers.
  const headers = Object.entries(headersWithReplyTo(message)).map(([key, value]) => ({ key, value }));
  return {
    project_id: projectId,
    from: address(message.from),
    to: some(message.to.map(address)),
    cc: some(message.cc.map(address)),
    bcc: some(message.bcc.map(address)),
    subject: message.subject,
    text: message.text,
    html: message.html,
    // TEM has no inline parts: inline attachments arrive as ordinary ones.
    attachments: some(message.attachments.map((a) => ({ name: a.filename, type: mimeType(a), content: a.content }))),
    additional_headers: some(headers),
  };
}

export const scaleway: ProviderKind<ScalewaySettings> = {
  parse(raw) {
    onlyFields(raw, ['secret_key', 'project_id', 'region', 'base_url']);
    const region = optionalString(raw, 'region') ?? 'fr-par';
    if (!/^[a-z]{2}-[a-z]{3}$/.test(region)) throw new SettingsError(`region must be a Scaleway region like "fr-par" (got "${region}")`);
    return {
      provider: 'scaleway',
      secret_key: requiredString(raw, 'secret_key'),
      project_id: requiredString(raw, 'project_id'),
      region,
      base_url: baseUrl(raw, 'https://api.scaleway.com'),
    };
  },
  secrets: (settings) => [settings.secret_key],
  create(settings) {
    const headers = { 'x-auth-token': settings.secret_key };
    const url = `${settings.base_url}/transactional-email/v1alpha1/regions/${settings.region}/emails`;
    return {
      async send(message, context) {
        const reply = await postJson(context, url, headers, payload(message, settings.project_id));
        if (!isReply(reply)) return reply;
        const json = parseJson(reply.body);
        if (isSuccess(reply)) {
          const first = Array.isArray(json?.emails) ? (json.emails[0] as { id?: unknown; message_id?: unknown } | undefined) : undefined;
          // `id` is what Scaleway's webhook events carry (email_id), so events find the email by it.
          const id = typeof first?.id === 'string' ? first.id : typeof first?.message_id === 'string' ? first.message_id : undefined;
          return id === undefined ? malformed(reply) : { outcome: 'ok', providerMessageId: id };
        }
        const type = typeof json?.type === 'string' ? json.type : undefined;
        const details = json?.details === undefined ? '' : ` ${JSON.stringify(json.details)}`;
        const detail = json === null ? undefined : `${type ?? 'error'}: ${String(json.message)}${details}`;
        return classified(reply, detail, type === undefined ? undefined : errorTypes[type]);
      },
    };
  },
};

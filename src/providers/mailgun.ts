// Mailgun's messages endpoint: https://documentation.mailgun.com/docs/mailgun/api-reference/
import type { FormData } from 'undici';
import type { EmailMessage } from '../email/message.ts';
import { exchange, failureFromStatus, isReply, isSuccess, malformed, parseJson } from './http.ts';
import type { ProviderKind } from './provider.ts';
import { baseUrl, onlyFields, region, requiredString } from './settings.ts';

export interface MailgunSettings {
  provider: 'mailgun';
  api_key: string;
  domain: string;
  base_url: string;
}

const regions: Record<string, string> = {
  us: 'https://api.mailgun.net',
  eu: 'https://api.eu.mailgun.net',
};

// undici's FormData, loaded in the worker threads on first send: the main thread only parses settings.
async function form(message: EmailMessage): Promise<FormData> {
  const { FormData } = await import('undici');
  const data = new FormData();
  data.append('from', message.from);
  for (const to of message.to) data.append('to', to);
  for (const cc of message.cc) data.append('cc', cc);
  for (const bcc of message.bcc) data.append('bcc', bcc);
  if (message.reply_to.length > 0) data.append('h:Reply-To', message.reply_to.join(', '));
  data.append('subject', message.subject);
  if (message.text !== undefined) data.append('text', message.text);
  if (message.html !== undefined) data.append('html', message.html);
  for (const [name, value] of Object.entries(message.headers)) data.append(`h:${name}`, value);
  for (const tag of message.tags) data.append('o:tag', tag);
  for (const [name, value] of Object.entries(message.metadata)) data.append(`v:${name}`, value);
  for (const a of message.attachments) {
    const blob = new Blob([Buffer.from(a.content, 'base64')], { type: a.content_type ?? 'application/octet-stream' });
    // Mailgun references inline parts by file name: cid:<filename>.
    data.append(a.content_id === undefined ? 'attachment' : 'inline', blob, a.content_id ?? a.filename);
  }
  return data;
}

/** The Basic credential: its base64 form is a secret of its own, scrubbed like the key. */
function credentials(settings: MailgunSettings): string {
  return Buffer.from(`api:${settings.api_key}`).toString('base64');
}

export const mailgun: ProviderKind<MailgunSettings> = {
  parse(raw) {
    onlyFields(raw, ['api_key', 'domain', 'region', 'base_url']);
    const regionUrl = region(raw, regions, 'us');
    return {
      provider: 'mailgun',
      api_key: requiredString(raw, 'api_key'),
      domain: requiredString(raw, 'domain'),
      base_url: baseUrl(raw, regionUrl),
    };
  },
  secrets: (settings) => [settings.api_key, credentials(settings)],
  create(settings) {
    const authorization = `Basic ${credentials(settings)}`;
    const url = `${settings.base_url}/v3/${encodeURIComponent(settings.domain)}/messages`;
    return {
      async send(message, context) {
        const reply = await exchange(context, url, { headers: { authorization }, body: await form(message) });
        if (!isReply(reply)) return reply;
        const json = parseJson(reply.body);
        if (isSuccess(reply)) {
          if (typeof json?.id === 'string') return { outcome: 'ok', providerMessageId: json.id };
          // "Mailgun Magnificent API" is the API root answering a wrong base_url: nothing was sent,
          // and retrying the same URL cannot help.
          if (reply.body.includes('Magnificent API') || json !== null) {
            return { outcome: 'permanent', code: 'INVALID_RESPONSE', message: `HTTP ${reply.status} without a message id (check base_url): ${reply.body.slice(0, 200)}` };
          }
          return malformed(reply);
        }
        return failureFromStatus(reply, typeof json?.message === 'string' ? json.message : undefined);
      },
    };
  },
};

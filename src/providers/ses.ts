// Amazon SES v2 SendEmail with raw MIME content:
// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
// The MIME comes from buildMime, so the Message-ID and every byte match the other paths; the
// request is SigV4-signed by aws4 and sent through the worker's Agent like every other provider.
import { buildMime } from '../email/mime.ts';
import { optionalDkim, signMime, type DkimSettings } from './dkim.ts';
import { classified, exchange, header, isReply, isSuccess, malformed, parseJson, type ErrorClass, type HttpReply } from './http.ts';
import { bare, some } from './fields.ts';
import type { ProviderKind } from './provider.ts';
import { SettingsError, baseUrl, onlyFields, optionalString } from './settings.ts';

export interface SesSettings {
  provider: 'ses';
  region: string;
  /** Absent: the standard AWS environment variables are read when the adapter is created. */
  access_key_id?: string;
  secret_access_key?: string;
  session_token?: string;
  configuration_set_name?: string;
  /** Signs the raw MIME before it is sent (SES's own Easy DKIM needs none of this). */
  dkim?: DkimSettings;
  base_url: string;
}

// SES names its errors in the x-amzn-ErrorType header; throttling arrives as 400 or 429.
const errorTypes: Record<string, ErrorClass> = {
  Throttling: { outcome: 'retryable', code: 'RATE_LIMITED' },
  ThrottlingException: { outcome: 'retryable', code: 'RATE_LIMITED' },
  TooManyRequestsException: { outcome: 'retryable', code: 'RATE_LIMITED' },
  // Daily quota and sending-rate limits: the quota resets, so the email waits rather than fails.
  LimitExceededException: { outcome: 'retryable', code: 'RATE_LIMITED' },
  MessageRejected: { outcome: 'permanent', code: 'REJECTED' },
  MailFromDomainNotVerifiedException: { outcome: 'permanent', code: 'SENDER_REJECTED' },
  AccountSuspendedException: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' },
  // Paused sending is resumed by an operator; keep the email queued until then.
  SendingPausedException: { outcome: 'retryable', code: 'ACCOUNT_PAUSED' },
  NotFoundException: { outcome: 'permanent', code: 'REJECTED' },
  BadRequestException: { outcome: 'permanent', code: 'REJECTED' },
  UnrecognizedClientException: { outcome: 'permanent', code: 'AUTH_FAILED' },
  InvalidSignatureException: { outcome: 'permanent', code: 'AUTH_FAILED' },
  SignatureDoesNotMatch: { outcome: 'permanent', code: 'AUTH_FAILED' },
  AccessDeniedException: { outcome: 'permanent', code: 'AUTH_FAILED' },
};

/** "MessageRejected:http://internal.amazon.com/..." or "com.amazonaws...#Throttling" → the bare name. */
function errorType(reply: HttpReply, json: Record<string, unknown> | null): string | undefined {
  const raw = header(reply, 'x-amzn-errortype') ?? (typeof json?.__type === 'string' ? json.__type : undefined)
    ?? (typeof json?.code === 'string' ? json.code : undefined);
  return raw?.split(':')[0]?.split('#').pop();
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function credentialsOf(settings: SesSettings): Credentials {
  if (settings.access_key_id !== undefined && settings.secret_access_key !== undefined) {
    return { accessKeyId: settings.access_key_id, secretAccessKey: settings.secret_access_key, sessionToken: settings.session_token };
  }
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = process.env;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
    throw new SettingsError('access_key_id and secret_access_key are required unless AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set');
  }
  return { accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: AWS_SECRET_ACCESS_KEY, sessionToken: AWS_SESSION_TOKEN || undefined };
}

export const ses: ProviderKind<SesSettings> = {
  parse(raw) {
    onlyFields(raw, ['region', 'access_key_id', 'secret_access_key', 'session_token', 'configuration_set_name', 'dkim', 'base_url']);
    const region = optionalString(raw, 'region') ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
    if (region === undefined) throw new SettingsError('region is required unless AWS_REGION or AWS_DEFAULT_REGION is set');
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new SettingsError(`region must be an AWS region like "eu-west-1" (got "${region}")`);
    const settings: SesSettings = {
      provider: 'ses',
      region,
      access_key_id: optionalString(raw, 'access_key_id'),
      secret_access_key: optionalString(raw, 'secret_access_key'),
      session_token: optionalString(raw, 'session_token'),
      configuration_set_name: optionalString(raw, 'configuration_set_name'),
      // Present only when configured, so settings without it read the same as before.
      ...optionalDkim(raw),
      base_url: baseUrl(raw, `https://email.${region}.amazonaws.com`),
    };
    if ((settings.access_key_id === undefined) !== (settings.secret_access_key === undefined)) {
      throw new SettingsError('access_key_id and secret_access_key must be given together');
    }
    credentialsOf(settings); // fail at start-up, not on the first email
    return settings;
  },
  secrets(settings) {
    const { secretAccessKey, sessionToken } = credentialsOf(settings);
    return [secretAccessKey, sessionToken, settings.dkim?.private_key];
  },
  create(settings) {
    const credentials = credentialsOf(settings);
    const url = new URL(`${settings.base_url}/v2/email/outbound-emails`);
    return {
      async send(message, context) {
        // The Bcc header stays out of the bytes; Destination carries every recipient.
        const unsigned = await buildMime({ ...message, bcc: [] }, { messageIdDomain: context.messageIdDomain });
        const mime = settings.dkim === undefined ? unsigned : await signMime(unsigned, settings.dkim);
        const body = JSON.stringify({
          Destination: {
            ToAddresses: some(message.to.map(bare)),
            CcAddresses: some(message.cc.map(bare)),
            BccAddresses: some(message.bcc.map(bare)),
          },
          Content: { Raw: { Data: mime.toString('base64') } },
          ConfigurationSetName: settings.configuration_set_name,
        });
        // Loaded on first send, in the worker threads; the main thread only parses settings.
        const { default: aws4 } = await import('aws4');
        const signed = aws4.sign(
          { host: url.host, path: url.pathname, method: 'POST', service: 'ses', region: settings.region, headers: { 'content-type': 'application/json' }, body },
          credentials,
        );
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(signed.headers ?? {})) {
          // undici derives Host from the URL, the same value aws4 signed.
          if (name.toLowerCase() !== 'host' && value !== undefined) headers[name] = String(value);
        }
        const reply = await exchange(context, url.href, { headers, body });
        if (!isReply(reply)) return reply;
        const json = parseJson(reply.body);
        if (isSuccess(reply)) {
          return typeof json?.MessageId === 'string' ? { outcome: 'ok', providerMessageId: json.MessageId } : malformed(reply);
        }
        const type = errorType(reply, json);
        const text = typeof json?.message === 'string' ? json.message : typeof json?.Message === 'string' ? json.Message : undefined;
        const detail = type === undefined ? text : `${type}: ${text ?? ''}`;
        return classified(reply, detail, type === undefined ? undefined : errorTypes[type]);
      },
    };
  },
};

// Amazon SES events, published to an SNS topic with an HTTPS subscription
// (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns.html). SNS signs
// every message with its certificate (sns.ts); since any AWS account can have SNS sign messages
// of its own topics, only the configured topic_arn values are accepted.
import { X509Certificate } from 'node:crypto';
import { SettingsError, onlyFields, optionalBoolean } from '../settings.ts';
import type { WebhookKind, WebhookResult } from './webhook.ts';
import { WebhookBodyError } from './webhook.ts';
import { sesEvents } from './ses-events.ts';
import { CertificateCache, confirmSubscription, isSnsUrl, signatureMatches, snsMessage } from './sns.ts';
import { header, jsonBody } from './verify.ts';

export type SesWebhookSettings = {
  /** The SNS topics whose messages are accepted; one per topic when notifications go to several. */
  topic_arn: string[];
  /** Confirm a SubscriptionConfirmation by fetching its SubscribeURL (default); else log the URL. */
  auto_confirm: boolean;
  /** Signing certificates by SigningCertURL, used without fetching. */
  certificates: Record<string, string>;
  /** False: only pinned certificates are trusted, nothing is fetched. */
  fetch_certificates: boolean;
};

const topicArn = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w.-]{1,256}$/;

function topics(raw: Record<string, unknown>): string[] {
  const value = raw.topic_arn;
  const values = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(values) || values.length === 0 || !values.every((arn) => typeof arn === 'string' && topicArn.test(arn))) {
    throw new SettingsError('topic_arn must be an SNS topic ARN like "arn:aws:sns:eu-west-1:123456789012:ses-events", or a non-empty list of them');
  }
  return values as string[];
}

function certificates(raw: Record<string, unknown>): Record<string, string> {
  const value = raw.certificates ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SettingsError('certificates must be an object of SigningCertURL → PEM certificate');
  }
  const pinned: Record<string, string> = {};
  for (const [url, pem] of Object.entries(value)) {
    if (!isSnsUrl(url)) throw new SettingsError(`certificates["${url}"]: the key must be an https URL on an SNS host (sns.<region>.amazonaws.com)`);
    try {
      if (typeof pem !== 'string') throw new Error('not text');
      void new X509Certificate(pem);
    } catch {
      throw new SettingsError(`certificates["${url}"] must be a PEM certificate (-----BEGIN CERTIFICATE-----…)`);
    }
    pinned[url] = pem;
  }
  return pinned;
}

// Shared by every SES backend: certificate URLs are global, and SNS uses few of them.
const fetched = new CertificateCache();

// The first Notification of a new event destination is this sentence, not an SES record.
const topicCheck = 'Successfully validated SNS topic for Amazon SES event publishing.';

export const sesWebhook: WebhookKind<SesWebhookSettings> = {
  parse(raw) {
    onlyFields(raw, ['topic_arn', 'auto_confirm', 'certificates', 'fetch_certificates']);
    const settings = {
      topic_arn: topics(raw),
      auto_confirm: optionalBoolean(raw, 'auto_confirm') ?? true,
      certificates: certificates(raw),
      fetch_certificates: optionalBoolean(raw, 'fetch_certificates') ?? true,
    };
    if (!settings.fetch_certificates && Object.keys(settings.certificates).length === 0) {
      throw new SettingsError('fetch_certificates is false, so certificates must pin at least one signing certificate');
    }
    return settings;
  },
  // Certificates and topic names are public: SES webhooks hold no secret.
  secrets: () => [],
  async verify(request, settings) {
    try {
      const message = snsMessage(JSON.parse(request.body.toString('utf8')));
      if (message === null || !settings.topic_arn.includes(message.TopicArn)) return false;
      // SNS names the type in a header too; a request whose header and body disagree was not sent by SNS.
      const type = header(request, 'x-amz-sns-message-type');
      if (type !== undefined && type !== message.Type) return false;
      if (!isSnsUrl(message.SigningCertURL)) return false;
      const pinned = settings.certificates[message.SigningCertURL];
      if (pinned === undefined && !settings.fetch_certificates) return false;
      const key = pinned === undefined ? await fetched.key(message.SigningCertURL) : new X509Certificate(pinned).publicKey;
      return signatureMatches(message, key);
    } catch {
      return false;
    }
  },
  read(request, settings): WebhookResult {
    const message = snsMessage(jsonBody(request));
    if (message === null) throw new WebhookBodyError('expected an SNS message (Type, MessageId, TopicArn, Message, …)');
    if (message.Type === 'SubscriptionConfirmation') {
      const url = message.SubscribeURL!;
      if (!isSnsUrl(url)) throw new WebhookBodyError('SubscribeURL is not an https URL on an SNS host');
      return settings.auto_confirm
        ? { kind: 'handshake', confirm: () => confirmSubscription(url), notice: `confirming the SNS subscription to ${message.TopicArn}` }
        : { kind: 'handshake', notice: `the SNS subscription to ${message.TopicArn} awaits confirmation (auto_confirm is false): open ${url}` };
    }
    if (message.Type === 'UnsubscribeConfirmation') {
      return { kind: 'handshake', notice: `the SNS subscription to ${message.TopicArn} was removed` };
    }
    if (message.Message === topicCheck) return { kind: 'events', events: [] };
    let record: unknown;
    try {
      record = JSON.parse(message.Message);
    } catch {
      throw new WebhookBodyError('the SNS Message is neither JSON nor the SES topic check');
    }
    return { kind: 'events', events: sesEvents(record) };
  },
};

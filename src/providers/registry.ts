// Provider kinds by name, and the parsing of POST_OFFICE_BACKENDS (alias → settings).
import { ConfigError } from '../errors.ts';
import { brevo, type BrevoSettings } from './brevo.ts';
import { mailersend, type MailersendSettings } from './mailersend.ts';
import { mailgun, type MailgunSettings } from './mailgun.ts';
import { mailjet, type MailjetSettings } from './mailjet.ts';
import { mailtrap, type MailtrapSettings } from './mailtrap.ts';
import { mandrill, type MandrillSettings } from './mandrill.ts';
import { outbox, type OutboxSettings } from './outbox.ts';
import { postal, type PostalSettings } from './postal.ts';
import { postmark, type PostmarkSettings } from './postmark.ts';
import type { Provider, ProviderKind } from './provider.ts';
import { resend, type ResendSettings } from './resend.ts';
import { scaleway, type ScalewaySettings } from './scaleway.ts';
import { sendgrid, type SendgridSettings } from './sendgrid.ts';
import { ses, type SesSettings } from './ses.ts';
import { smtp, type SmtpSettings } from './smtp.ts';
import { sparkpost, type SparkpostSettings } from './sparkpost.ts';
import { unisenderGo, type UnisenderGoSettings } from './unisender-go.ts';

export type BackendSettings =
  | OutboxSettings
  | PostmarkSettings
  | MailgunSettings
  | SesSettings
  | SendgridSettings
  | ResendSettings
  | BrevoSettings
  | MailjetSettings
  | MailersendSettings
  | MailtrapSettings
  | MandrillSettings
  | SparkpostSettings
  | PostalSettings
  | ScalewaySettings
  | UnisenderGoSettings
  | SmtpSettings;

// The "provider" value in POST_OFFICE_BACKENDS → its kind. docs/providers.md documents each.
const kinds: Record<BackendSettings['provider'], ProviderKind<never>> = {
  outbox: outbox as ProviderKind<never>,
  postmark: postmark as ProviderKind<never>,
  mailgun: mailgun as ProviderKind<never>,
  ses: ses as ProviderKind<never>,
  sendgrid: sendgrid as ProviderKind<never>,
  resend: resend as ProviderKind<never>,
  brevo: brevo as ProviderKind<never>,
  mailjet: mailjet as ProviderKind<never>,
  mailersend: mailersend as ProviderKind<never>,
  mailtrap: mailtrap as ProviderKind<never>,
  mandrill: mandrill as ProviderKind<never>,
  sparkpost: sparkpost as ProviderKind<never>,
  postal: postal as ProviderKind<never>,
  scaleway: scaleway as ProviderKind<never>,
  unisender_go: unisenderGo as ProviderKind<never>,
  smtp: smtp as ProviderKind<never>,
};

function kindOf(settings: BackendSettings): ProviderKind<BackendSettings> {
  return kinds[settings.provider] as unknown as ProviderKind<BackendSettings>;
}

const VARIABLE = 'POST_OFFICE_BACKENDS';

export function parseBackends(raw: string | undefined, outboxDir: string): Record<string, BackendSettings> {
  if (raw === undefined) return { default: outbox.parse({}, { outboxDir }) };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    // The value carries API keys: name the rule, never echo the text.
    throw new ConfigError(`${VARIABLE} must be a JSON object of alias → provider settings (it is not valid JSON)`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
    throw new ConfigError(`${VARIABLE} must be a non-empty JSON object of alias → provider settings`);
  }
  const backends: Record<string, BackendSettings> = {};
  for (const [alias, settings] of Object.entries(value)) {
    if (!/^[a-zA-Z0-9_.-]{1,64}$/.test(alias)) {
      throw new ConfigError(`${VARIABLE}: alias "${alias}" must be 1-64 letters, digits, "_", "." or "-"`);
    }
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
      throw new ConfigError(`${VARIABLE}.${alias} must be an object with a "provider" field`);
    }
    const name = (settings as { provider?: unknown }).provider;
    const kind = typeof name === 'string' && Object.hasOwn(kinds, name) ? kinds[name as BackendSettings['provider']] : undefined;
    if (kind === undefined) {
      throw new ConfigError(`${VARIABLE}.${alias}.provider must be one of ${Object.keys(kinds).join(', ')} (got ${JSON.stringify(name)})`);
    }
    try {
      backends[alias] = (kind as unknown as ProviderKind<BackendSettings>).parse(settings as Record<string, unknown>, { outboxDir });
    } catch (err) {
      throw new ConfigError(`${VARIABLE}.${alias}: ${(err as Error).message}`);
    }
  }
  return backends;
}

export function createProvider(settings: BackendSettings): Provider {
  return kindOf(settings).create(settings);
}

export function providerOrigin(settings: BackendSettings): string | null {
  return kindOf(settings).origin(settings);
}

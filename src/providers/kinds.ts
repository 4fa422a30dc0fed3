// Provider kinds by name, what a backend's settings are, and making a backend's adapter from them:
// what a worker thread needs of the providers. Parsing POST_OFFICE_BACKENDS is registry.ts's.
import { brevo, type BrevoSettings } from './brevo.ts';
import { mailersend, type MailersendSettings } from './mailersend.ts';
import { mailgun, type MailgunSettings } from './mailgun.ts';
import { mailjet, type MailjetSettings } from './mailjet.ts';
import { mailtrap, type MailtrapSettings } from './mailtrap.ts';
import { mandrill, type MandrillSettings } from './mandrill.ts';
import { outbox, type OutboxSettings } from './outbox.ts';
import { postal, type PostalSettings } from './postal.ts';
import { postmark, type PostmarkSettings } from './postmark.ts';
import { defaultMaxMessageBytes } from './limits.ts';
import type { BatchEndpoint, Provider, ProviderKind } from './provider.ts';
import { resend, type ResendSettings } from './resend.ts';
import { keepingSecrets } from './secrets.ts';
import { scaleway, type ScalewaySettings } from './scaleway.ts';
import { sendgrid, type SendgridSettings } from './sendgrid.ts';
import { ses, type SesSettings } from './ses.ts';
import { smtp, type SmtpSettings } from './smtp.ts';
import { sparkpost, type SparkpostSettings } from './sparkpost.ts';
import { unisenderGo, type UnisenderGoSettings } from './unisender-go.ts';

export type ProviderSettings =
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

/** A backend's fleet-wide sending limit (docs/rate-limits.md); either or both may be set. */
export interface RateLimitSettings {
  per_second?: number;
  per_day?: number;
}

/** One alias of POST_OFFICE_BACKENDS: its provider's settings plus the settings every kind takes. */
export type BackendSettings = ProviderSettings & {
  rate_limit?: RateLimitSettings;
  /** Overrides the provider's documented maximum message size (src/providers/limits.ts). */
  max_message_bytes?: number;
  /** Send several emails per request through the provider's batch endpoint (Postmark, Resend). */
  batch?: boolean;
  /** How the provider's delivery webhooks are verified (src/providers/webhooks/, docs/webhooks.md): parsed by its webhook kind. */
  webhook?: Readonly<Record<string, unknown>>;
  /** The backend that sends this one's emails while it fails (src/providers/fallback.ts, docs/providers.md "Failover"). */
  fallback?: string;
};

// Every kind has a default size limit: adding a provider without one fails to compile here.
defaultMaxMessageBytes satisfies Record<BackendSettings['provider'], number | null>;

/** Each `provider` name of POST_OFFICE_BACKENDS → the settings its kind parses. */
export type SettingsOf = { [S in ProviderSettings as S['provider']]: S };
export type ProviderName = keyof SettingsOf;

// The "provider" value in POST_OFFICE_BACKENDS → its kind. docs/providers.md documents each.
export const kinds: { [N in ProviderName]: ProviderKind<SettingsOf[N]> } = {
  outbox,
  postmark,
  mailgun,
  ses,
  sendgrid,
  resend,
  brevo,
  mailjet,
  mailersend,
  mailtrap,
  mandrill,
  sparkpost,
  postal,
  scaleway,
  unisender_go: unisenderGo,
  smtp,
};

export const isProviderName = (name: unknown): name is ProviderName => typeof name === 'string' && Object.hasOwn(kinds, name);

/** The kind of one provider name, typed for that name's settings. */
export function kindOf<N extends ProviderName>(name: N): ProviderKind<SettingsOf[N]> {
  return kinds[name];
}

/** The backend's adapter, wrapped once here: no configured secret and no thrown error leaves it. */
export function createProvider(settings: BackendSettings): Provider {
  const kind = kindOf(settings.provider);
  const provider = kind.create(settings);
  return keepingSecrets(kind.secrets(settings), provider);
}

/** The HTTP origin the backend's adapter talks to, for per-backend connection metrics; null without base_url (SMTP, outbox). */
export function providerOrigin(settings: BackendSettings): string | null {
  return settings.base_url === undefined ? null : new URL(settings.base_url).origin;
}

/** The batch endpoint a backend sends through, or undefined when it sends one email per request. */
export function batchEndpoint(settings: BackendSettings): BatchEndpoint | undefined {
  return settings.batch === true ? kindOf(settings.provider).batch : undefined;
}

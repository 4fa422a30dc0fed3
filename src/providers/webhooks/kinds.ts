// The providers whose delivery webhooks the sidecar reads, by the "provider" value of
// POST_OFFICE_BACKENDS. docs/webhooks.md documents each one's setup.
import { brevoWebhook } from './brevo.ts';
import { mailersendWebhook } from './mailersend.ts';
import { mailgunWebhook } from './mailgun.ts';
import { mailjetWebhook } from './mailjet.ts';
import { mailtrapWebhook } from './mailtrap.ts';
import { mandrillWebhook } from './mandrill.ts';
import { postalWebhook } from './postal.ts';
import { postmarkWebhook } from './postmark.ts';
import { resendWebhook } from './resend.ts';
import { scalewayWebhook } from './scaleway.ts';
import { sendgridWebhook } from './sendgrid.ts';
import { sesWebhook } from './ses.ts';
import { sparkpostWebhook } from './sparkpost.ts';
import { unisenderGoWebhook } from './unisender-go.ts';
import type { WebhookKind } from './webhook.ts';

/** A kind whose settings type is erased; each kind's own settings are a `type` (not an interface) so that it fits. */
export type AnyWebhookKind = WebhookKind<Record<string, unknown>>;

export const webhookKinds: Readonly<Record<string, AnyWebhookKind>> = {
  brevo: brevoWebhook,
  mailersend: mailersendWebhook,
  mailgun: mailgunWebhook,
  mailjet: mailjetWebhook,
  mailtrap: mailtrapWebhook,
  mandrill: mandrillWebhook,
  postal: postalWebhook,
  postmark: postmarkWebhook,
  resend: resendWebhook,
  scaleway: scalewayWebhook,
  sendgrid: sendgridWebhook,
  ses: sesWebhook,
  sparkpost: sparkpostWebhook,
  unisender_go: unisenderGoWebhook,
};

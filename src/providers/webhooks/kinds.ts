// The providers whose delivery webhooks the sidecar reads, by the "provider" value of
// POST_OFFICE_BACKENDS. docs/webhooks.md documents each one's setup.
import { brevoWebhook } from './brevo.ts';
import { mailjetWebhook } from './mailjet.ts';
import { mailtrapWebhook } from './mailtrap.ts';
import { postmarkWebhook } from './postmark.ts';
import { scalewayWebhook } from './scaleway.ts';
import { unisenderGoWebhook } from './unisender-go.ts';
import type { WebhookKind } from './webhook.ts';

/** A kind whose settings type is erased; each kind's own settings are a `type` (not an interface) so that it fits. */
export type AnyWebhookKind = WebhookKind<Record<string, unknown>>;

export const webhookKinds: Readonly<Record<string, AnyWebhookKind>> = {
  postmark: postmarkWebhook,
  mailjet: mailjetWebhook,
  brevo: brevoWebhook,
  mailtrap: mailtrapWebhook,
  scaleway: scalewayWebhook,
  unisender_go: unisenderGoWebhook,
};

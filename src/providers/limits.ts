// The largest message each provider accepts, from its own documentation, in one table. An
// email over its backend's limit is refused at enqueue (413 MESSAGE_TOO_LARGE) rather than
// stored and then failed by the provider at delivery. A backend's `max_message_bytes` setting
// overrides the default (an account with a raised quota, a relay with its own SIZE).
//
// Limits are in decimal megabytes, as the providers write them, and apply to the message as
// sent: attachments base64-encoded. Most say so; the rest are read the same way to be safe.

const MB = 1_000_000;

/** Documented maximum message size per provider kind; null: no limit of its own. */
export const defaultMaxMessageBytes = {
  // https://docs.aws.amazon.com/ses/latest/dg/quotas.html (v2 API, after base64 encoding)
  ses: 40 * MB,
  // https://www.twilio.com/docs/sendgrid/api-reference/mail-send/limitations ("less than 30MB")
  sendgrid: 30 * MB,
  // https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/send-http
  mailgun: 25 * MB,
  // https://postmarkapp.com/support/article/1056-what-are-the-attachment-and-email-size-limits
  postmark: 10 * MB,
  // https://resend.com/docs/dashboard/emails/attachments ("no larger than 40MB")
  resend: 40 * MB,
  // https://help.brevo.com/hc/en-us/articles/4402811730962 (transactional emails: 20MB)
  brevo: 20 * MB,
  // Mailjet Send API v3.1: 15 MB per message, attachments included
  mailjet: 15 * MB,
  // MailerSend email API: attachments up to 25 MB in all
  mailersend: 25 * MB,
  // https://help.mailtrap.io/article/100-sending-limits ("10 MB in all plans")
  mailtrap: 10 * MB,
  // Mailchimp Transactional: 25 MB per message, attachments included
  mandrill: 25 * MB,
  // SparkPost: 20 MB per message
  sparkpost: 20 * MB,
  // Postal's own default (smtp_server.max_message_size: 14 MB); self-hosted, so often overridden
  postal: 14 * MB,
  // https://www.scaleway.com/en/docs/transactional-email/reference-content/tem-capabilities-and-limits/
  // (API: 2 MB, not raisable)
  scaleway: 2 * MB,
  // https://godocs.unisender.ru/web-api-ref: a request (the whole JSON) is at most 10 MB
  unisender_go: 10 * MB,
  // Not the provider's: what most receiving servers accept (Gmail, Outlook.com: 25 MB). A relay
  // that advertises a different SIZE is configured with max_message_bytes.
  smtp: 25 * MB,
  // A file on disk: only POST_OFFICE_MAX_BODY_BYTES bounds it.
  outbox: null,
} as const satisfies Record<string, number | null>;

export type LimitedProvider = keyof typeof defaultMaxMessageBytes;

/** The limit that applies to a backend: its own setting, else its provider's default. */
export function maxMessageBytes(settings: { provider: LimitedProvider; max_message_bytes?: number }): number | null {
  return settings.max_message_bytes ?? defaultMaxMessageBytes[settings.provider];
}

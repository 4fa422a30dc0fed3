// The contract every provider's delivery-webhook handler keeps. A handler verifies a request its
// provider's documented way, then turns the body into normalised delivery events. It runs on the
// webhook listener's event loop (src/http/webhooks-api.ts), which stores what it returns; it
// never touches the database itself, so each handler is tested with bodies and secrets alone.

/** The normalised kinds of event (docs/webhooks.md); opened, clicked and unsubscribed change no status. */
export const deliveryEventTypes = ['delivered', 'deferred', 'bounced', 'complained', 'rejected', 'opened', 'clicked', 'unsubscribed'] as const;
export type DeliveryEventType = (typeof deliveryEventTypes)[number];

export interface DeliveryEvent {
  type: DeliveryEventType;
  /** For `bounced`: hard (the address does not exist: suppressed) or soft (mailbox full, retried by the provider). */
  bounce?: 'hard' | 'soft';
  /**
   * The provider's message id exactly as this backend's adapter stored it at send time
   * (emails.provider_message_id): the handler strips what the provider adds (brackets, suffixes).
   */
  providerMessageId: string;
  /** The recipient the event is about, bare (no display name); the store lower-cases it. */
  recipient: string;
  /** When the provider says it happened; the receipt time when it does not say. */
  at: Date;
  /** The provider's or remote server's code (an SMTP status like "5.1.1", the provider's reason name). */
  code: string | null;
  /** The provider's human-readable description, if any (bounce diagnostic, complaint feedback type). */
  message: string | null;
  /**
   * Unique per event and stable across the provider's retries: the provider's event id where it
   * has one, else a hash of what identifies the event (type, message id, recipient, time). A
   * replayed event has the same key and changes nothing.
   */
  eventKey: string;
}

/** What a provider's event name says of the recipient, before the event's own fields are read. */
export type EventMeaning = Pick<DeliveryEvent, 'type' | 'bounce'>;

/** The request as it reached the listener: the body is the raw bytes, since signatures cover them. */
export interface WebhookRequest {
  method: string;
  /** The full URL the provider called, scheme and host as the provider sees them when known (Mandrill signs it). */
  url: string;
  /** Lower-case header names, as node's http gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

/** What the handler makes of a verified request. */
export type WebhookResult =
  /** Events to store (possibly none: a test ping, an event type we do not track). */
  | { kind: 'events'; events: DeliveryEvent[] }
  /**
   * A handshake the provider needs answered rather than stored (SNS SubscriptionConfirmation):
   * `confirm` is called once the reply is due; `reply` is sent with 200. `notice`: a line the
   * listener logs, for a handshake an operator completes by hand (SES with auto_confirm off: the
   * SubscribeURL to open).
   */
  | { kind: 'handshake'; confirm?: () => Promise<void>; reply?: unknown; notice?: string };

/** The body is not in the provider's documented format: the listener answers 400 with this message. */
export class WebhookBodyError extends Error {}

/**
 * One provider's webhooks. `S` is the parsed `webhook` object of the backend's settings in
 * POST_OFFICE_BACKENDS (e.g. Postmark: {"username": "…", "password": "…"}).
 */
export interface WebhookKind<S> {
  /** Checks the raw `webhook` settings at start-up; throws a SettingsError naming the field. */
  parse(raw: Record<string, unknown>): S;
  /** Every secret the settings hold: never logged. */
  secrets(settings: S): ReadonlyArray<string | undefined>;
  /** True when the request is authentic (signature, token or basic auth, its documented way). Never throws. */
  verify(request: WebhookRequest, settings: S): boolean | Promise<boolean>;
  /** Reads a verified body; throws WebhookBodyError when it is malformed. */
  read(request: WebhookRequest, settings: S): WebhookResult | Promise<WebhookResult>;
}

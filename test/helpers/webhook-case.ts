// The shape of one provider's webhook case: how its documented hard-bounce event is signed and
// posted. test/webhooks/provider-webhooks.test.ts runs every case in test/helpers/webhook-cases/
// against a real sidecar: it sends an email through the provider's conformance case (its
// settings and success reply, test/helpers/provider-cases-*.ts), posts the bounce to
// /webhooks/<alias>, and checks that the recipient shows bounced and is suppressed.

/** A request as the provider sends it. */
export interface SignedRequest {
  /** Where it is posted, when not the plain webhook URL (a token in the query string). */
  url?: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface WebhookCase {
  /** The conformance case's label (its provider): its settings and success reply send the email. */
  label: string;
  /** The backend's "webhook" settings in POST_OFFICE_BACKENDS. */
  webhook: Record<string, unknown>;
  /**
   * The provider's documented hard-bounce webhook about `messageId` (the message id the
   * provider answered at send time, as the conformance case's success reply gives it) and
   * `recipient`, signed as the provider signs it. `url`: the full URL it is posted to.
   */
  bounce(input: { messageId: string; recipient: string; url: string }): SignedRequest | Promise<SignedRequest>;
  /** The same request signed with a wrong secret (or without its credentials). */
  forged(input: { messageId: string; recipient: string; url: string }): SignedRequest | Promise<SignedRequest>;
}

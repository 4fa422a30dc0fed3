// Mandrill: a hard_bounce event (https://mailchimp.com/developer/transactional/docs/webhooks/) in a
// form-encoded mandrill_events batch, signed with the webhook key over the URL it is posted to
// (no `url` setting: the sidecar is reached directly, so the request's own URL is the signed one).
import { createHmac } from 'node:crypto';
import type { WebhookCase } from '../webhook-case.ts';

const key = 'mandrill-webhook-key-0123456789';

function signed(input: { messageId: string; recipient: string; url: string }, signingKey: string) {
  const events = [{
    event: 'hard_bounce', _id: input.messageId, ts: 1777945177,
    msg: {
      ts: 1777945170, subject: 'Conformance check', email: input.recipient, sender: 'sender@example.com', tags: [], state: 'bounced',
      metadata: {}, _id: input.messageId, _version: 'exampleaaaaaaaaaaaaaaa', bounce_description: 'bad_mailbox', bgtools_code: 10,
      diag: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
    },
  }];
  const fields = { mandrill_events: JSON.stringify(events) };
  const signature = createHmac('sha1', signingKey).update(`${input.url}mandrill_events${fields.mandrill_events}`).digest('base64');
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-mandrill-signature': signature },
    body: new URLSearchParams(fields).toString(),
  };
}

export const mandrillCase: WebhookCase = {
  label: 'mandrill',
  webhook: { key },
  bounce: (input) => signed(input, key),
  forged: (input) => signed(input, 'wrong-key'),
};

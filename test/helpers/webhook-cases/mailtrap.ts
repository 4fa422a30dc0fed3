// Mailtrap: the Mailtrap-Signature header (hex HMAC-SHA256 of the body under the webhook's
// signing secret); the bounce event as documented at https://docs.mailtrap.io/email-api-smtp/advanced/webhooks.
import { createHmac } from 'node:crypto';
import type { WebhookCase } from '../webhook-case.ts';

const secret = '3f2a9c1e7b4d8a6f0e5c2b9d7a1f4e8c';

const bounceBody = (messageId: string, recipient: string) => JSON.stringify({
  events: [{
    event: 'bounce', timestamp: 1793986434, sending_stream: 'transactional', message_id: messageId, email: recipient,
    event_id: 'bede7236-2284-43d6-a953-1fdcafd0fdbc', response: '550 5.1.1 The email account that you tried to reach does not exist.',
    response_code: 550, bounce_category: 'hard', sending_domain_name: 'example.com',
  }],
});

const signed = (body: string, key: string) => ({
  headers: { 'content-type': 'application/json', 'mailtrap-signature': createHmac('sha256', key).update(body).digest('hex') },
  body,
});

export const mailtrapCase: WebhookCase = {
  label: 'mailtrap',
  webhook: { signing_secret: secret },
  bounce: ({ messageId, recipient }) => signed(bounceBody(messageId, recipient), secret),
  forged: ({ messageId, recipient }) => signed(bounceBody(messageId, recipient), '00000000000000000000000000000000'),
};

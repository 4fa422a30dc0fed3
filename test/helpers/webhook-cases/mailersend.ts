// MailerSend: an activity.hard_bounced webhook (https://developers.mailersend.com/api/v1/webhooks.html),
// v2 payload, signed with the webhook's signing secret (hex HMAC-SHA256 of the body in Signature).
import { createHmac } from 'node:crypto';
import type { WebhookCase } from '../webhook-case.ts';

const secret = 'mailersend-signing-secret-0123456789';

const hardBounce = (messageId: string, recipient: string) => JSON.stringify({
  type: 'activity.hard_bounced', created_at: '2026-11-05T16:33:55.000000Z',
  data: {
    id: '6892766a5b66e2daf3dc9158', domain_id: 'yv69oxl5kl785kw2', message_id: messageId, email_id: '6892766a8d52ba62543d5e71',
    type: 'hard_bounced', subject: 'Conformance check', recipient, tags: [],
    meta: { bounce_reason: 'Host or domain name not found', bounce_code: 550, bounce_type: 'hard' },
  },
  webhook_id: '2351ndgwr4zqx8ko',
});

const signed = (body: string, key: string) => ({
  headers: { 'content-type': 'application/json', signature: createHmac('sha256', key).update(body).digest('hex') },
  body,
});

export const mailersendCase: WebhookCase = {
  label: 'mailersend',
  webhook: { signing_secret: secret },
  bounce: ({ messageId, recipient }) => signed(hardBounce(messageId, recipient), secret),
  forged: ({ messageId, recipient }) => signed(hardBounce(messageId, recipient), 'wrong-secret'),
};

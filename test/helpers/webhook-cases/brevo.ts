// Brevo: basic auth from the webhook URL; the hard_bounce event as documented at
// https://developers.brevo.com/docs/transactional-webhooks (message-id in angle brackets).
import type { WebhookCase } from '../webhook-case.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const hardBounce = (messageId: string, recipient: string) => JSON.stringify({
  event: 'hard_bounce', email: recipient, id: 9999999, date: '2026-11-05 17:33:54', ts: 1793986434,
  'message-id': messageId, ts_event: 1793986434, ts_epoch: 1793986434000, subject: 'Conformance check', sending_ip: '185.41.28.109',
  reason: 'RecipientError: 550 5.1.1 The email account that you tried to reach does not exist.',
});

export const brevoCase: WebhookCase = {
  label: 'brevo',
  webhook: { username: 'brevo-hooks', password: 'hook-password-0123456789' },
  bounce: ({ messageId, recipient }) => ({
    headers: { 'content-type': 'application/json', authorization: basic('brevo-hooks', 'hook-password-0123456789') },
    body: hardBounce(messageId, recipient),
  }),
  forged: ({ messageId, recipient }) => ({
    headers: { 'content-type': 'application/json', authorization: basic('brevo-hooks', 'wrong-password') },
    body: hardBounce(messageId, recipient),
  }),
};

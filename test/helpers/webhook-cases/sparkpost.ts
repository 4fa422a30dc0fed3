// SparkPost: a bounce message_event with bounce class 10 (Invalid Recipient), in a batch as
// https://developers.sparkpost.com/api/webhooks/ documents it, with the webhook's basic auth.
import type { WebhookCase } from '../webhook-case.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const bounceBatch = (transmissionId: string, recipient: string) => JSON.stringify([{
  msys: {
    message_event: {
      type: 'bounce', bounce_class: '10', campaign_id: 'welcome', customer_id: '1', delv_method: 'esmtp', error_code: '550',
      event_id: '92356927693813856', friendly_from: 'sender@example.com', ip_pool: 'default', message_id: '000443ee14578172be22',
      msg_from: 'sender@example.com', num_retries: '0', rcpt_meta: {}, rcpt_tags: [], rcpt_to: recipient.toLowerCase(), raw_rcpt_to: recipient,
      raw_reason: '550 5.1.1 <recipient>: Recipient address rejected: User unknown', reason: '550 5.1.1 ...@... Recipient address rejected: User unknown',
      recipient_domain: recipient.split('@')[1], subject: 'Conformance check', timestamp: '1777945177', transmission_id: transmissionId,
    },
  },
}]);

export const sparkpostCase: WebhookCase = {
  label: 'sparkpost',
  webhook: { username: 'sparkpost-hooks', password: 'hook-password-0123456789' },
  bounce: ({ messageId, recipient }) => ({
    headers: { 'content-type': 'application/json', authorization: basic('sparkpost-hooks', 'hook-password-0123456789') },
    body: bounceBatch(messageId, recipient),
  }),
  forged: ({ messageId, recipient }) => ({
    headers: { 'content-type': 'application/json', authorization: basic('sparkpost-hooks', 'wrong-password') },
    body: bounceBatch(messageId, recipient),
  }),
};

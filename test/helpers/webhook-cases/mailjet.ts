// Mailjet: basic auth from the webhook URL; the bounce event as documented at
// https://dev.mailjet.com/email/guides/webhooks/ (Message_GUID is the MessageUUID the send returned).
import type { WebhookCase } from '../webhook-case.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const bounceEvent = (messageId: string, recipient: string) => JSON.stringify([{
  event: 'bounce', time: 1430812195, MessageID: 13792286917004336, Message_GUID: messageId, email: recipient,
  mj_campaign_id: 0, mj_contact_id: 0, customcampaign: '', CustomID: 'helloworld', Payload: '',
  blocked: false, hard_bounce: true, error_related_to: 'recipient', error: 'user unknown',
  comment: '550 5.1.1 The email account that you tried to reach does not exist.',
}]);

export const mailjetCase: WebhookCase = {
  label: 'mailjet',
  webhook: { username: 'mailjet-hooks', password: 'hook-password-0123456789' },
  bounce: ({ messageId, recipient }) => ({
    headers: { 'content-type': 'application/json', authorization: basic('mailjet-hooks', 'hook-password-0123456789') },
    body: bounceEvent(messageId, recipient),
  }),
  forged: ({ messageId, recipient }) => ({
    headers: { 'content-type': 'application/json', authorization: basic('mailjet-hooks', 'wrong-password') },
    body: bounceEvent(messageId, recipient),
  }),
};

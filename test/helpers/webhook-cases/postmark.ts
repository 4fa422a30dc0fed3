// Postmark: basic auth from the webhook URL; the Bounce record as documented at
// https://postmarkapp.com/developer/webhooks/bounce-webhook.
import type { WebhookCase } from '../webhook-case.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const bounceRecord = (messageId: string, recipient: string) => JSON.stringify({
  RecordType: 'Bounce', ID: 4323372036, Type: 'HardBounce', TypeCode: 1, Name: 'Hard bounce', Tag: 'Test',
  MessageID: messageId, ServerID: 23, MessageStream: 'outbound',
  Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
  Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.', Email: recipient, From: 'sender@example.com',
  BouncedAt: '2026-11-05T16:33:54.9070259Z', DumpAvailable: true, Inactive: true, CanActivate: true, Subject: 'Test subject',
});

export const postmarkCase: WebhookCase = {
  label: 'postmark',
  webhook: { username: 'postmark-hooks', password: 'hook-password-0123456789' },
  bounce: ({ messageId, recipient }) => ({
    headers: { 'content-type': 'application/json', authorization: basic('postmark-hooks', 'hook-password-0123456789') },
    body: bounceRecord(messageId, recipient),
  }),
  forged: ({ messageId, recipient }) => ({
    headers: { 'content-type': 'application/json', authorization: basic('postmark-hooks', 'wrong-password') },
    body: bounceRecord(messageId, recipient),
  }),
};

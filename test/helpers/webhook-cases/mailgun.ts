// Mailgun: the signature block (HMAC-SHA256 of timestamp + token) inside the JSON body; the
// permanent-failure event as in https://documentation.mailgun.com/docs/mailgun/user-manual/events/.
import { createHmac, randomBytes } from 'node:crypto';
import type { SignedRequest, WebhookCase } from '../webhook-case.ts';

export const mailgunSigningKey = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';

/** The signature block Mailgun adds; `timestamp` in seconds. */
export function mailgunSignature(key = mailgunSigningKey, timestamp = String(Math.floor(Date.now() / 1000)), token = randomBytes(25).toString('hex')) {
  return { timestamp, token, signature: createHmac('sha256', key).update(timestamp + token).digest('hex') };
}

export function signedMailgun(eventData: unknown, signature: Record<string, string> = mailgunSignature()): SignedRequest {
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ signature, 'event-data': eventData }) };
}

/** The send answered "<id@domain>"; the webhook names the Message-ID without brackets. */
export const mailgunFailed = (messageId: string, recipient: string) => ({
  id: 'G9Bn5sl1TC6nu79C8C0bwg', timestamp: 1793550834.375624, 'log-level': 'error', event: 'failed', severity: 'permanent', reason: 'bounce',
  envelope: { sender: 'sender@mg.example.com', transport: 'smtp', targets: recipient },
  flags: { 'is-routed': false, 'is-authenticated': true, 'is-system-test': false, 'is-test-mode': false },
  'delivery-status': { 'attempt-no': 1, message: '5.1.1 The email account that you tried to reach does not exist.', code: 550, description: '', 'session-seconds': 0.4 },
  message: { headers: { to: recipient, 'message-id': messageId.replace(/^<|>$/g, ''), from: 'Sender <sender@mg.example.com>', subject: 'Conformance check' }, attachments: [], size: 111 },
  recipient, 'recipient-domain': recipient.split('@')[1], campaigns: [], tags: [], 'user-variables': {},
});

export const mailgunCase: WebhookCase = {
  label: 'mailgun',
  webhook: { signing_key: mailgunSigningKey },
  bounce: ({ messageId, recipient }) => signedMailgun(mailgunFailed(messageId, recipient)),
  forged: ({ messageId, recipient }) => signedMailgun(mailgunFailed(messageId, recipient), mailgunSignature('key-wrong')),
};

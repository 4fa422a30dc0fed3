// Postal: a MessageDeliveryFailed webhook (https://docs.postalserver.io/developer/webhooks) with a
// 550 reply, signed by a throwaway RSA key whose public half is the backend's public_key.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { WebhookCase } from '../webhook-case.ts';

const server = generateKeyPairSync('rsa', { modulusLength: 2048 });
const intruder = generateKeyPairSync('rsa', { modulusLength: 2048 });

const failure = (messageId: string, recipient: string) => JSON.stringify({
  event: 'MessageDeliveryFailed', timestamp: 1777945177.12994, uuid: '820b47a4-4dfd-42e4-ae6a-1e5bed5a33fd',
  payload: {
    status: 'HardFail', details: 'Permanent SMTP delivery error when sending to mx.example.com',
    output: '550 5.1.1 The email account that you tried to reach does not exist', time: 0.31, sent_with_ssl: true, timestamp: 1777945177.12994,
    message: {
      id: 12345, token: 'abcdef123', direction: 'outgoing', message_id: messageId, to: recipient, from: 'sender@example.com',
      subject: 'Conformance check', timestamp: 1777945170.5, spam_status: 'NotSpam', tag: null,
    },
  },
});

function signed(body: string, key: KeyObject) {
  return {
    headers: {
      'content-type': 'application/json',
      'x-postal-signature-256': sign('sha256', Buffer.from(body), key).toString('base64'),
      'x-postal-signature': sign('sha1', Buffer.from(body), key).toString('base64'),
    },
    body,
  };
}

export const postalCase: WebhookCase = {
  label: 'postal',
  webhook: { public_key: server.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
  bounce: ({ messageId, recipient }) => signed(failure(messageId, recipient), server.privateKey),
  forged: ({ messageId, recipient }) => signed(failure(messageId, recipient), intruder.privateKey),
};

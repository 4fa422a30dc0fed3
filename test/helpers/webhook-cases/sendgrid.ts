// SendGrid: the signed Event Webhook (ECDSA P-256 over timestamp + body) with a key pair made
// here; the bounce event as in https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { SignedRequest, WebhookCase } from '../webhook-case.ts';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = pair();
const forger = pair();

/** The verification key as SendGrid's dashboard shows it: base64 of the DER public key. */
export const sendgridVerificationKey = signer.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
export const sendgridSigningKey = signer.privateKey;

/** A request signed as SendGrid signs it; `timestamp` in seconds. */
export function signedSendgrid(body: string, key: KeyObject = signer.privateKey, timestamp = String(Math.floor(Date.now() / 1000))): SignedRequest {
  const signature = sign('sha256', Buffer.from(timestamp + body), key).toString('base64');
  return {
    headers: {
      'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': timestamp,
    },
    body,
  };
}

export const sendgridBounce = (messageId: string, recipient: string) => ({
  email: recipient, timestamp: 1793550834, 'smtp-id': `<${messageId}@geopod-ismtpd-3>`, event: 'bounce', category: ['welcome'],
  sg_event_id: 'ZGVsaXZlcmVkLTAtMjk5NzI0NjYtYm91bmNlLTA', sg_message_id: `${messageId}.filterdrecv-5645d9c87f-vp2bx-1-6543A8F0-2C.0`,
  reason: '550 5.1.1 The email account that you tried to reach does not exist.', status: '5.1.1', type: 'bounce',
  bounce_classification: 'Invalid Address', tls: 1,
});

export const sendgridCase: WebhookCase = {
  label: 'sendgrid',
  webhook: { verification_key: sendgridVerificationKey },
  bounce: ({ messageId, recipient }) => signedSendgrid(JSON.stringify([sendgridBounce(messageId, recipient)])),
  forged: ({ messageId, recipient }) => signedSendgrid(JSON.stringify([sendgridBounce(messageId, recipient)]), forger.privateKey),
};

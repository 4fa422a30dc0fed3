// Resend: Svix signatures (v1, HMAC-SHA256 of id.timestamp.body under the whsec_ secret); the
// email.bounced event as in https://resend.com/docs/webhooks/emails/bounced.
import { createHmac, randomUUID } from 'node:crypto';
import type { SignedRequest, WebhookCase } from '../webhook-case.ts';

export const resendSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** A request signed as Svix signs it; `timestamp` in seconds. */
export function signedResend(body: string, secret = resendSecret, timestamp = String(Math.floor(Date.now() / 1000)), id = `msg_${randomUUID()}`): SignedRequest {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { headers: { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': timestamp, 'svix-signature': `v1,${signature}` }, body };
}

export const resendBounced = (messageId: string, recipient: string) => ({
  type: 'email.bounced', created_at: '2026-11-05T16:33:54.907Z',
  data: {
    broadcast_id: null, created_at: '2026-11-05T16:33:52.318Z', email_id: messageId, from: 'Sender Name <sender@example.com>',
    to: [recipient], subject: 'Conformance check',
    bounce: { message: "The recipient's email address is on the suppression list because it has a recent history of producing hard bounces.", subType: 'General', type: 'Permanent' },
  },
});

export const resendCase: WebhookCase = {
  label: 'resend',
  webhook: { signing_secret: resendSecret },
  // One svix-id per event: Resend retries (and an attacker's replay) carry the same one.
  bounce: ({ messageId, recipient }) => signedResend(JSON.stringify(resendBounced(messageId, recipient)), resendSecret, undefined, `msg_bounce_${messageId}`),
  forged: ({ messageId, recipient }) => signedResend(JSON.stringify(resendBounced(messageId, recipient)), 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=='),
};

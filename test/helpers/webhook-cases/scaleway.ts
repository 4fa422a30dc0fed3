// Scaleway TEM: a shared token in the subscription URL's query string; the email_dropped event
// as documented at https://www.scaleway.com/en/docs/transactional-email/reference-content/webhook-events-payloads/,
// in the SNS Notification envelope Topics and Events delivers it in. The event names the email
// by email_id: the id the case passes is what the handler reports.
import type { WebhookCase } from '../webhook-case.ts';

const token = 'scaleway-hook-token-0123456789';

const withToken = (url: string, value: string) => {
  const parsed = new URL(url);
  parsed.searchParams.set('token', value);
  return parsed.toString();
};

const notification = (messageId: string, recipient: string) => JSON.stringify({
  Type: 'Notification', MessageId: 'a4c1f3d2-5b6e-4f70-8a9b-0c1d2e3f4a5b', TopicArn: 'arn:scw:sns:fr-par:project-b8f2e1c4:tem-events',
  Message: JSON.stringify({
    id: '0e6f4b1a-9c2d-4e3f-8a7b-6c5d4e3f2a1b', type: 'email_dropped', organization_id: 'b8f2e1c4-0000-4000-8000-000000000002',
    project_id: 'b8f2e1c4-0000-4000-8000-000000000001', domain_id: 'c1d2e3f4-0000-4000-8000-000000000003', domain_name: 'example.com',
    created_at: '2026-11-05T16:33:55Z', email_sent_at: '2026-11-05T16:33:54Z', email_id: messageId, email_from: 'sender@example.com',
    email_to: recipient, email_headers: [{ key: 'Subject', value: 'Conformance check' }],
    email_response_code: 550, email_response_message: '5.1.1 The email account that you tried to reach does not exist.',
  }),
  Timestamp: '2026-11-05T16:33:55.000Z', SignatureVersion: '1', Signature: 'c2lnbmF0dXJl', SigningCertURL: 'https://messaging.s3.fr-par.scw.cloud/fr-par/sns/sns.pem',
});

export const scalewayCase: WebhookCase = {
  label: 'scaleway',
  webhook: { token },
  bounce: ({ messageId, recipient, url }) => ({
    url: withToken(url, token), headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: notification(messageId, recipient),
  }),
  forged: ({ messageId, recipient, url }) => ({
    url: withToken(url, 'wrong-token'), headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: notification(messageId, recipient),
  }),
};

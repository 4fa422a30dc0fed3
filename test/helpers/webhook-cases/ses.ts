// Amazon SES through SNS: the event-publishing Bounce record as documented at
// https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html, in an
// SNS Notification signed (SignatureVersion 2) with the test key of test/fixtures/sns/, whose
// certificate the webhook settings pin, so nothing is fetched.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stringToSign, type SnsMessage } from '../../../src/providers/webhooks/sns.ts';
import type { SignedRequest, WebhookCase } from '../webhook-case.ts';

const fixtures = path.resolve(import.meta.dirname, '../../fixtures/sns');
export const snsCertificate = readFileSync(path.join(fixtures, 'test-signing-cert.pem'), 'utf8');
export const snsKey = readFileSync(path.join(fixtures, 'test-signing-key.pem'), 'utf8');
export const snsCertUrl = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-post-office-test.pem';
export const sesTopic = 'arn:aws:sns:eu-west-1:123456789012:ses-events';

export const sesSettings = { topic_arn: sesTopic, certificates: { [snsCertUrl]: snsCertificate }, fetch_certificates: false };

type Unsigned = Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'> & Partial<SnsMessage>;

/** An SNS message signed as SNS signs it: version 1 is SHA1withRSA, 2 SHA256withRSA. */
export function signedSns(message: Unsigned, key: KeyObject | string = snsKey, version: '1' | '2' = '2'): SnsMessage {
  const full = { SignatureVersion: version, Signature: '', SigningCertURL: snsCertUrl, ...message } as SnsMessage;
  full.Signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(stringToSign(full), 'utf8'), key).toString('base64');
  return full;
}

/** A Notification carrying one SES record. */
export function notification(record: unknown, overrides: Partial<SnsMessage> = {}): Unsigned {
  return {
    Type: 'Notification', MessageId: 'a3466e9f-872a-5c36-a1c3-1b8e2b5f0e11', TopicArn: sesTopic,
    Message: JSON.stringify(record), Timestamp: '2026-11-05T16:33:55.012Z', ...overrides,
  };
}

/** The request SNS posts: text/plain, the type and ids repeated in headers. */
export function snsRequest(message: SnsMessage): SignedRequest {
  return {
    headers: {
      'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': message.Type,
      'x-amz-sns-message-id': message.MessageId, 'x-amz-sns-topic-arn': message.TopicArn,
    },
    body: JSON.stringify(message),
  };
}

export const sesBounce = (messageId: string, recipient: string) => ({
  eventType: 'Bounce',
  bounce: {
    feedbackId: '0102019a5e5b1c2d-7c8f3a1e-5b2d-4c9e-9f1a-2b3c4d5e6f70-000000', bounceType: 'Permanent', bounceSubType: 'General',
    bouncedRecipients: [{ emailAddress: recipient, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
    timestamp: '2026-11-05T16:33:54.907Z', reportingMTA: 'dsn; e226-55.smtp-out.eu-west-1.amazonses.com',
  },
  mail: {
    timestamp: '2026-11-05T16:33:53.012Z', source: 'Sender Name <sender@example.com>',
    sourceArn: 'arn:aws:ses:eu-west-1:123456789012:identity/sender@example.com', sendingAccountId: '123456789012',
    messageId, destination: [recipient], headersTruncated: false,
    commonHeaders: { from: ['Sender Name <sender@example.com>'], to: [recipient], subject: 'Conformance check' },
    tags: { 'ses:configuration-set': ['post-office'] },
  },
});

const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

export const sesCase: WebhookCase = {
  label: 'ses',
  webhook: sesSettings,
  bounce: ({ messageId, recipient }) => snsRequest(signedSns(notification(sesBounce(messageId, recipient)))),
  // Signed, but not by the certificate SigningCertURL names.
  forged: ({ messageId, recipient }) => snsRequest(signedSns(notification(sesBounce(messageId, recipient)), forger)),
};

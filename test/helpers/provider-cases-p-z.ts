// Conformance cases, Postal to Unisender Go: each provider's documented request and real replies.
import assert from 'node:assert/strict';
import aws4 from 'aws4';
import { json, message, text, type ProviderCase } from './provider-fixtures.ts';
import type { RecordedRequest } from './mock-provider.ts';

const postalKey = 'postal-key-0123456789';
const postmarkToken = 'pm-server-token-0123456789';
const resendKey = 're_test_0123456789abcdef';
const scalewayKey = 'scw-secret-0123456789abcdef';
const sendgridKey = 'SG.test-0123456789abcdef';
const sesSecret = 'ses-secret-wJalrXUtnFEMI/K7MDENG';
const sparkpostKey = 'sp-key-0123456789abcdef';
const unisenderKey = 'uni-key-0123456789abcdef';

/** The SES request is signed over exactly what was sent: recompute the signature and compare. */
function checkSes(request: RecordedRequest): void {
  const signed = aws4.sign({
    host: String(request.headers.host), path: request.path, method: 'POST', service: 'ses', region: 'eu-west-1',
    headers: { 'content-type': 'application/json', 'X-Amz-Date': String(request.headers['x-amz-date']) }, body: request.body,
  }, { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: sesSecret, sessionToken: 'session-token-example' });
  assert.equal(request.headers.authorization, signed.headers?.Authorization, 'SigV4 signature matches the request');
  const body = JSON.parse(request.body) as { Destination: Record<string, string[]>; Content: { Raw: { Data: string } } };
  assert.deepEqual(body.Destination, { ToAddresses: ['ann@example.com', 'bob@example.com'], CcAddresses: ['carol@example.com'], BccAddresses: ['dave@example.com'] });
  const mime = Buffer.from(body.Content.Raw.Data, 'base64').toString();
  assert.match(mime, /^Subject: Conformance check$/m);
  assert.match(mime, new RegExp(`^Message-ID: <${message.id}@example.com>$`, 'm'));
  assert.doesNotMatch(mime, /^Bcc:/im, 'the Bcc header never reaches the recipients');
}

function sesError(status: number, type: string, text: string) {
  return json(status, { message: text }, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/` });
}

function postalError(code: string, text: string) {
  return json(200, { status: 'error', time: 0.004, flags: {}, data: { code, message: text } });
}

export const casesPtoZ: ProviderCase[] = [
  {
    label: 'postal',
    settings: (base_url) => ({ provider: 'postal', api_key: postalKey, base_url }),
    secret: postalKey,
    request: {
      path: '/api/v1/send/message',
      headers: { 'x-server-api-key': postalKey },
      fields: {
        from: 'Sender Name <sender@example.com>', to: message.to, cc: ['carol@example.com'], bcc: ['dave@example.com'],
        reply_to: 'replies@example.com', subject: 'Conformance check', plain_body: 'plain body', html_body: message.html,
        tag: 'welcome', 'headers.X-Campaign': 'spring', 'attachments.0.name': 'report.txt',
      },
    },
    success: {
      reply: json(200, { status: 'success', time: 0.12, flags: {}, data: { message_id: 'a1b2c3d4-e5f6@rp.postal.example.com', messages: { 'ann@example.com': { id: 1, token: 'abc' } } } }),
      id: 'a1b2c3d4-e5f6@rp.postal.example.com',
    },
    // Postal's errors arrive inside HTTP 200.
    permanent: { reply: postalError('NoRecipients', 'There are no recipients defined to receive this message'), code: 'REJECTED' },
    unauthorized: postalError('InvalidServerAPIKey', 'The API token provided in X-Server-API-Key was not valid.'),
    rateLimited: text(429, 'Too Many Requests'),
    unavailable: text(502, '<html><body>Bad Gateway</body></html>', { 'content-type': 'text/html' }),
    special: [
      {
        name: 'UnauthenticatedFromAddress inside a 200 is a sender problem: permanent',
        reply: postalError('UnauthenticatedFromAddress', 'The From address is not authorised to send mail from this server'),
        expect: { outcome: 'permanent', code: 'SENDER_REJECTED' },
      },
    ],
  },
  {
    label: 'postmark',
    settings: (base_url) => ({ provider: 'postmark', server_token: postmarkToken, base_url }),
    secret: postmarkToken,
    request: {
      path: '/email',
      headers: { 'x-postmark-server-token': postmarkToken },
      fields: {
        From: 'Sender Name <sender@example.com>', To: 'Ann Example <ann@example.com>, bob@example.com', Bcc: 'dave@example.com',
        Subject: 'Conformance check', TextBody: 'plain body', MessageStream: 'outbound', Tag: 'welcome',
        'Headers.0': { Name: 'X-Campaign', Value: 'spring' }, 'Attachments.1.ContentID': 'cid:logo',
      },
    },
    success: {
      reply: json(200, { To: 'ann@example.com', SubmittedAt: '2024-01-01T12:00:00.0000000Z', MessageID: 'b7bc2f4a-e38e-4336-af7d-e6c392c2f817', ErrorCode: 0, Message: 'OK' }),
      id: 'b7bc2f4a-e38e-4336-af7d-e6c392c2f817',
    },
    permanent: { reply: json(422, { ErrorCode: 300, Message: "Invalid 'To' address: 'bob@'." }), code: 'REJECTED' },
    unauthorized: json(401, { ErrorCode: 10, Message: 'The Server Token you provided in the X-Postmark-Server-Token request header was invalid.' }),
    rateLimited: json(429, { ErrorCode: 429, Message: 'Rate limit exceeded' }),
    unavailable: json(503, { ErrorCode: 100, Message: 'Maintenance' }),
    special: [
      {
        name: '422 ErrorCode 406 (inactive recipient) is permanent',
        reply: json(422, { ErrorCode: 406, Message: 'You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: ann@example.com.' }),
        expect: { outcome: 'permanent', code: 'RECIPIENT_REJECTED' },
      },
      {
        name: '422 ErrorCode 405 (not allowed to send) is an account problem',
        reply: json(422, { ErrorCode: 405, Message: 'Your account has run out of credits.' }),
        expect: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' },
      },
    ],
  },
  {
    label: 'resend',
    settings: (base_url) => ({ provider: 'resend', api_key: resendKey, base_url }),
    secret: resendKey,
    request: {
      path: '/emails',
      headers: { authorization: `Bearer ${resendKey}`, 'idempotency-key': message.id },
      fields: {
        from: 'Sender Name <sender@example.com>', to: message.to, cc: ['carol@example.com'], bcc: ['dave@example.com'],
        reply_to: ['replies@example.com'], subject: 'Conformance check', text: 'plain body', 'headers.X-Campaign': 'spring',
        'attachments.1.content_id': 'logo', tags: [{ name: 'welcome', value: 'true' }, { name: 'user_id', value: '42' }],
      },
    },
    success: { reply: json(200, { id: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794' }), id: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794' },
    permanent: { reply: json(422, { statusCode: 422, name: 'validation_error', message: 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.' }), code: 'REJECTED' },
    unauthorized: json(403, { statusCode: 403, name: 'invalid_api_key', message: 'API key is invalid' }),
    rateLimited: json(429, { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests. You can only make 2 requests per second.' }),
    unavailable: json(500, { statusCode: 500, name: 'internal_server_error', message: 'An unexpected error occurred.' }),
    special: [
      {
        name: '409 concurrent_idempotent_requests: an earlier attempt is in flight, retry',
        reply: json(409, { statusCode: 409, name: 'concurrent_idempotent_requests', message: 'Same idempotency key used while original request is still in progress.' }),
        expect: { outcome: 'retryable', code: 'IDEMPOTENCY_CONFLICT' },
      },
    ],
  },
  {
    label: 'scaleway',
    settings: (base_url) => ({ provider: 'scaleway', secret_key: scalewayKey, project_id: 'b8f2e1c4-0000-4000-8000-000000000001', base_url }),
    secret: scalewayKey,
    request: {
      path: '/transactional-email/v1alpha1/regions/fr-par/emails',
      headers: { 'x-auth-token': scalewayKey },
      fields: {
        project_id: 'b8f2e1c4-0000-4000-8000-000000000001', 'from.email': 'sender@example.com', 'from.name': 'Sender Name',
        'to.0.name': 'Ann Example', 'cc.0.email': 'carol@example.com', 'bcc.0.email': 'dave@example.com', subject: 'Conformance check',
        text: 'plain body', 'attachments.0': { name: 'report.txt', type: 'text/plain', content: message.attachments[0]?.content },
        additional_headers: [{ key: 'X-Campaign', value: 'spring' }, { key: 'Reply-To', value: 'replies@example.com' }],
      },
    },
    success: {
      reply: json(200, { emails: [{ id: '6e9ba5b2-1c6a-4d8e-9c1a-0a0a0a0a0a0a', message_id: 'f6d1c2b3-a4e5-4f60-8a7b-9c0d1e2f3a4b', project_id: 'b8f2e1c4', mail_from: 'sender@example.com', rcpt_to: 'ann@example.com', rcpt_type: 'to', subject: 'Conformance check', status: 'sending' }] }),
      id: '6e9ba5b2-1c6a-4d8e-9c1a-0a0a0a0a0a0a',
    },
    permanent: { reply: json(400, { details: [{ argument_name: 'to[1].email', reason: 'constraint', help_message: 'must be a valid email' }], message: 'invalid argument(s)', type: 'invalid_arguments' }), code: 'REJECTED' },
    unauthorized: json(401, { message: 'authentication is denied', method: 'api_key', reason: 'invalid_argument', type: 'denied_authentication' }),
    rateLimited: json(429, { message: 'rate limit exceeded' }),
    unavailable: json(503, { message: 'service unavailable' }),
    special: [
      {
        name: '403 quotas_exceeded is a wait, not a refusal',
        reply: json(403, { message: 'quota(s) exceeded for this resource', resource: 'TemEmail', type: 'quotas_exceeded', details: [{ resource: 'emails_per_day', quota: 300, current: 300 }] }),
        expect: { outcome: 'retryable', code: 'RATE_LIMITED' },
      },
    ],
  },
  {
    label: 'sendgrid',
    settings: (base_url) => ({ provider: 'sendgrid', api_key: sendgridKey, base_url }),
    secret: sendgridKey,
    request: {
      path: '/v3/mail/send',
      headers: { authorization: `Bearer ${sendgridKey}` },
      fields: {
        'personalizations.0.to': [{ email: 'ann@example.com', name: 'Ann Example' }, { email: 'bob@example.com' }],
        'personalizations.0.cc.0.email': 'carol@example.com', 'personalizations.0.bcc.0.email': 'dave@example.com',
        from: { email: 'sender@example.com', name: 'Sender Name' }, 'reply_to_list.0.email': 'replies@example.com', subject: 'Conformance check',
        content: [{ type: 'text/plain', value: 'plain body' }, { type: 'text/html', value: message.html }],
        'attachments.1.content_id': 'logo', 'attachments.1.disposition': 'inline', 'headers.X-Campaign': 'spring',
        categories: ['welcome'], 'custom_args.user_id': '42',
      },
    },
    success: { reply: { status: 202, body: '', headers: { 'x-message-id': 'W8Q0oQ8wTA2Z2fz7dX9hFQ' } }, id: 'W8Q0oQ8wTA2Z2fz7dX9hFQ' },
    permanent: { reply: json(400, { errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to.1.email', help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to' }] }), code: 'REJECTED' },
    unauthorized: json(401, { errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }] }),
    rateLimited: json(429, { errors: [{ field: null, message: 'too many requests' }] }),
    unavailable: json(500, { errors: [{ field: null, message: 'internal error' }] }),
  },
  {
    label: 'ses',
    settings: (base_url) => ({ provider: 'ses', region: 'eu-west-1', access_key_id: 'AKIDEXAMPLE', secret_access_key: sesSecret, session_token: 'session-token-example', base_url }),
    secret: sesSecret,
    request: {
      path: '/v2/email/outbound-emails',
      headers: {
        authorization: /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/ses\/aws4_request, SignedHeaders=\S*host\S*, Signature=[0-9a-f]{64}$/,
        'x-amz-date': /^\d{8}T\d{6}Z$/,
        'x-amz-security-token': 'session-token-example',
      },
      check: checkSes,
    },
    success: { reply: json(200, { MessageId: '010201900000abcd-12345678-1234-1234-1234-123456789abc-000000' }), id: '010201900000abcd-12345678-1234-1234-1234-123456789abc-000000' },
    permanent: { reply: sesError(400, 'MessageRejected', 'Email address is not verified. The following identities failed the check in region EU-WEST-1: sender@example.com'), code: 'REJECTED' },
    unauthorized: sesError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.'),
    rateLimited: sesError(429, 'TooManyRequestsException', 'Too Many Requests'),
    unavailable: sesError(500, 'InternalFailure', 'The request processing has failed because of an unknown error.'),
    special: [
      {
        name: 'ThrottlingException arrives as a 400 and is retryable',
        reply: sesError(400, 'ThrottlingException', 'Maximum sending rate exceeded.'),
        expect: { outcome: 'retryable', code: 'RATE_LIMITED' },
      },
      {
        name: 'SendingPausedException waits for an operator: retryable',
        reply: sesError(400, 'SendingPausedException', 'Sending is paused for this account.'),
        expect: { outcome: 'retryable', code: 'ACCOUNT_PAUSED' },
      },
      {
        name: 'AccountSuspendedException is permanent',
        reply: sesError(400, 'AccountSuspendedException', 'Your account has been suspended.'),
        expect: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' },
      },
    ],
  },
  {
    label: 'sparkpost',
    settings: (base_url) => ({ provider: 'sparkpost', api_key: sparkpostKey, subaccount: '42', base_url }),
    secret: sparkpostKey,
    request: {
      path: '/api/v1/transmissions',
      headers: { authorization: sparkpostKey, 'idempotency-key': message.id, 'x-msys-subaccount': '42' },
      fields: {
        recipients: ['ann@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'].map((email) => ({
          address: { email, header_to: 'Ann Example <ann@example.com>, bob@example.com' },
        })),
        'content.from': 'Sender Name <sender@example.com>', 'content.subject': 'Conformance check', 'content.reply_to': 'replies@example.com',
        'content.headers': { 'X-Campaign': 'spring', CC: 'carol@example.com' }, 'content.inline_images.0.name': 'logo',
        'content.attachments.0.name': 'report.txt', 'metadata.user_id': '42', campaign_id: 'welcome',
      },
    },
    success: { reply: json(200, { results: { total_rejected_recipients: 0, total_accepted_recipients: 4, id: '11668787484950529' } }), id: '11668787484950529' },
    permanent: { reply: json(422, { errors: [{ message: 'Message generation rejected', description: 'recipient address suppressed due to customer policy', code: '1902' }] }), code: 'REJECTED' },
    unauthorized: json(401, { errors: [{ message: 'Unauthorized.' }] }),
    rateLimited: json(429, { errors: [{ message: 'Too many requests' }] }),
    unavailable: json(503, { errors: [{ message: 'Service Unavailable' }] }),
    special: [
      {
        name: '420 sending limit (code 2102) waits instead of failing',
        reply: json(420, { errors: [{ message: 'Exceed Sending Limit (daily)', code: '2102' }] }),
        expect: { outcome: 'retryable', code: 'RATE_LIMITED' },
      },
      {
        name: 'a 200 with every recipient rejected was not sent',
        reply: json(200, { results: { total_rejected_recipients: 4, total_accepted_recipients: 0, id: '11668787484950530' } }),
        expect: { outcome: 'permanent', code: 'RECIPIENT_REJECTED' },
      },
    ],
  },
  {
    label: 'unisender_go',
    settings: (base_url) => ({ provider: 'unisender_go', api_key: unisenderKey, base_url }),
    secret: unisenderKey,
    request: {
      path: '/ru/transactional/api/v1/email/send.json',
      headers: { 'x-api-key': unisenderKey },
      fields: {
        'message.recipients': [
          { email: 'ann@example.com', substitutions: { to_name: 'Ann Example' } }, { email: 'bob@example.com' }, { email: 'carol@example.com' }, { email: 'dave@example.com' },
        ],
        'message.from_email': 'sender@example.com', 'message.from_name': 'Sender Name', 'message.reply_to': 'replies@example.com',
        'message.subject': 'Conformance check', 'message.body': { plaintext: 'plain body', html: message.html },
        'message.inline_attachments.0.name': 'logo', 'message.attachments.0.name': 'report.txt', 'message.global_metadata.user_id': '42',
      },
    },
    success: { reply: json(200, { status: 'success', job_id: '1ZymBc-00041N-9X', emails: ['ann@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'] }), id: '1ZymBc-00041N-9X' },
    permanent: { reply: json(400, { status: 'error', message: "Field 'recipients[1].email' is not a valid email", code: 102 }), code: 'REJECTED' },
    unauthorized: json(401, { status: 'error', message: 'User with id 0 not found or API key is invalid', code: 114 }),
    rateLimited: json(429, { status: 'error', message: 'Too many requests', code: 1002 }),
    unavailable: json(503, { status: 'error', message: 'Service temporarily unavailable', code: 1 }),
    special: [
      {
        name: 'a 200 where every recipient failed for good was not sent',
        reply: json(200, { status: 'success', job_id: 'job-2', emails: [], failed_emails: { 'ann@example.com': 'unsubscribed', 'bob@example.com': 'invalid', 'carol@example.com': 'permanent_unavailable', 'dave@example.com': 'invalid' } }),
        expect: { outcome: 'permanent', code: 'RECIPIENT_REJECTED' },
      },
      {
        name: 'a 200 where some recipients failed was sent',
        reply: json(200, { status: 'success', job_id: 'job-3', emails: ['ann@example.com'], failed_emails: { 'bob@example.com': 'temporary_unavailable' } }),
        expect: { outcome: 'ok', id: 'job-3' },
      },
    ],
  },
];

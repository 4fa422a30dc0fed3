// Conformance cases, Brevo to Mandrill: each provider's documented request and real replies.
import assert from 'node:assert/strict';
import { basic, json, message, text, type ProviderCase } from './provider-fixtures.ts';

const brevoKey = 'xkeysib-test-0123456789abcdef';
const mailersendToken = 'mlsn.test0123456789abcdef';
const mailgunKey = 'key-test-0123456789abcdef';
const mailjetSecret = 'mj-secret-0123456789abcdef';
const mailtrapToken = 'mailtrap-token-0123456789';
const mandrillKey = 'md-test-0123456789abcdef';

const mailtrapBase = {
  secret: mailtrapToken,
  success: { reply: json(200, { success: true, message_ids: ['0c7fd939-02cf-11ed-88c2-0a58a9feac02'] }), id: '0c7fd939-02cf-11ed-88c2-0a58a9feac02' },
  permanent: { reply: json(400, { success: false, errors: ["'to' address is invalid"] }), code: 'REJECTED' },
  unauthorized: json(401, { success: false, errors: ['Unauthorized'] }),
  rateLimited: json(429, { success: false, errors: ['Too many requests'] }),
  unavailable: json(500, { success: false, errors: ['Internal Server Error'] }),
} satisfies Partial<ProviderCase>;

export const casesAtoM: ProviderCase[] = [
  {
    label: 'brevo',
    settings: (base_url) => ({ provider: 'brevo', api_key: brevoKey, base_url }),
    secret: brevoKey,
    request: {
      path: '/v3/smtp/email',
      headers: { 'api-key': brevoKey },
      fields: {
        'sender.email': 'sender@example.com', 'sender.name': 'Sender Name', 'to.0.name': 'Ann Example', 'to.1.email': 'bob@example.com',
        'bcc.0.email': 'dave@example.com', 'replyTo.email': 'replies@example.com', subject: 'Conformance check',
        textContent: 'plain body', 'attachment.0.name': 'report.txt', tags: ['welcome'],
        // Brevo's documented idempotency: the key rides in the JSON headers object.
        'headers.idempotencyKey': message.id, 'headers.X-Campaign': 'spring',
      },
    },
    success: { reply: json(201, { messageId: '<202401011200.12345678901@smtp-relay.mailin.fr>' }), id: '<202401011200.12345678901@smtp-relay.mailin.fr>' },
    permanent: { reply: json(400, { code: 'invalid_parameter', message: 'email is not valid in to' }), code: 'REJECTED' },
    unauthorized: json(401, { code: 'unauthorized', message: 'Key not found' }),
    rateLimited: json(429, { code: 'too_many_requests', message: 'The expected rate limit is exceeded.' }),
    unavailable: json(500, { code: 'internal_error', message: 'Internal server error' }),
  },
  {
    label: 'mailersend',
    settings: (base_url) => ({ provider: 'mailersend', api_token: mailersendToken, base_url }),
    secret: mailersendToken,
    request: {
      path: '/v1/email',
      headers: { authorization: `Bearer ${mailersendToken}` },
      fields: {
        'from.email': 'sender@example.com', 'to.0.name': 'Ann Example', 'cc.0.email': 'carol@example.com', 'bcc.0.email': 'dave@example.com',
        'reply_to.email': 'replies@example.com', subject: 'Conformance check', html: message.html,
        'attachments.1.disposition': 'inline', 'attachments.1.id': 'logo', tags: ['welcome'],
        headers: [{ name: 'X-Campaign', value: 'spring' }],
      },
    },
    success: { reply: { status: 202, body: '', headers: { 'x-message-id': '5e42957d51f1d94a1070a733', 'content-type': 'text/html' } }, id: '5e42957d51f1d94a1070a733' },
    permanent: {
      reply: json(422, { message: 'The to.0.email must be a valid email address.', errors: { 'to.0.email': ['The to.0.email must be a valid email address.'] } }),
      code: 'REJECTED',
    },
    unauthorized: json(401, { message: 'Unauthenticated.' }),
    rateLimited: json(429, { message: 'Too Many Attempts.' }),
    unavailable: json(503, { message: 'Service Unavailable' }),
    special: [
      {
        name: 'a 202 with ALL_SUPPRESSED sent nothing: permanent',
        reply: json(202, {
          warnings: [{
            type: 'ALL_SUPPRESSED',
            warning: 'None of the recipients were sent this email because they are all suppressed.',
            recipients: [{ email: 'ann@example.com', name: 'Ann Example', reasons: ['hard_bounced'] }],
          }],
        }),
        expect: { outcome: 'permanent', code: 'RECIPIENT_REJECTED' },
      },
      {
        name: 'a 202 with SOME_SUPPRESSED was sent',
        reply: json(202, { warnings: [{ type: 'SOME_SUPPRESSED', warning: 'Some of the recipients were suppressed.', recipients: [] }] }, { 'x-message-id': 'ms-partial' }),
        expect: { outcome: 'ok', id: 'ms-partial' },
      },
    ],
  },
  {
    label: 'mailgun',
    settings: (base_url) => ({ provider: 'mailgun', api_key: mailgunKey, domain: 'mg.example.com', base_url }),
    secret: mailgunKey,
    request: {
      path: '/v3/mg.example.com/messages',
      headers: { authorization: basic('api', mailgunKey), 'content-type': /^multipart\/form-data/ },
      check(request) {
        for (const field of ['from', 'to', 'cc', 'bcc', 'subject', 'text', 'html', 'h:X-Campaign', 'h:Reply-To', 'o:tag', 'v:user_id', 'attachment', 'inline']) {
          assert.ok(request.body.includes(`name="${field}"`), `form field ${field}`);
        }
      },
    },
    success: { reply: json(200, { id: '<20240101120000.1.ABCDEF@mg.example.com>', message: 'Queued. Thank you.' }), id: '<20240101120000.1.ABCDEF@mg.example.com>' },
    permanent: { reply: json(400, { message: "to parameter is not a valid address. please check documentation" }), code: 'REJECTED' },
    unauthorized: text(401, 'Forbidden'),
    rateLimited: json(429, { message: 'Too many requests' }),
    unavailable: json(500, { message: 'Internal Server Error' }),
    special: [
      {
        // The API root answers 200 to a base_url without /v3: nothing was sent.
        name: 'a 200 "Mailgun Magnificent API" is a wrong base_url: permanent',
        reply: text(200, 'Mailgun Magnificent API'),
        expect: { outcome: 'permanent', code: 'INVALID_RESPONSE' },
      },
    ],
  },
  {
    label: 'mailjet',
    settings: (base_url) => ({ provider: 'mailjet', api_key: 'mj-public-key', secret_key: mailjetSecret, base_url }),
    secret: mailjetSecret,
    request: {
      path: '/v3.1/send',
      headers: { authorization: basic('mj-public-key', mailjetSecret) },
      fields: {
        'Messages.0.From.Email': 'sender@example.com', 'Messages.0.From.Name': 'Sender Name', 'Messages.0.To.0.Name': 'Ann Example',
        'Messages.0.Cc.0.Email': 'carol@example.com', 'Messages.0.Bcc.0.Email': 'dave@example.com', 'Messages.0.ReplyTo.Email': 'replies@example.com',
        'Messages.0.Subject': 'Conformance check', 'Messages.0.TextPart': 'plain body', 'Messages.0.HTMLPart': message.html,
        'Messages.0.Attachments.0.Filename': 'report.txt', 'Messages.0.InlinedAttachments.0.ContentID': 'logo',
        'Messages.0.Headers.X-Campaign': 'spring', 'Messages.0.CustomID': message.id,
      },
    },
    success: {
      reply: json(200, {
        Messages: [{
          Status: 'success', CustomID: message.id,
          To: [{ Email: 'ann@example.com', MessageUUID: '1ab23cd4-e567-8901-2345-6789f0gh1i2j', MessageID: 456789123, MessageHref: 'https://api.mailjet.com/v3/REST/message/456789123' }],
          Cc: [], Bcc: [],
        }],
      }),
      id: '1ab23cd4-e567-8901-2345-6789f0gh1i2j',
    },
    permanent: {
      reply: json(400, {
        Messages: [{
          Status: 'error',
          Errors: [{ ErrorIdentifier: 'f987008f-251a-4dff-8ffc-40f1583ad7bc', ErrorCode: 'mj-0013', StatusCode: 400, ErrorMessage: '"bob@" is an invalid email address.', ErrorRelatedTo: ['To[1].Email'] }],
        }],
      }),
      code: 'REJECTED',
    },
    unauthorized: json(401, {
      ErrorIdentifier: '06df1144-c6f3-4ca7-8885-7ec5d4344113',
      ErrorMessage: 'API key authentication/authorization failure. You may be unauthorized to access the API or your API key may be expired.',
      StatusCode: 401,
    }),
    rateLimited: json(429, { ErrorIdentifier: 'a1b2', ErrorMessage: 'Too many requests', StatusCode: 429 }),
    unavailable: json(500, { ErrorIdentifier: 'D4DF574C-0C5F-45C7-BA52-7AA8E533C3DE', ErrorMessage: 'Internal Server Error', StatusCode: 500 }),
    special: [
      {
        // v3.1 goes on with the messages that succeed when another fails: ours was sent.
        name: 'a 400 whose message says "success" was sent (partial success): never resend',
        reply: json(400, {
          Messages: [
            { Status: 'success', To: [{ Email: 'ann@example.com', MessageUUID: 'uuid-1', MessageID: 1152921500000000000, MessageHref: 'x' }] },
            { Status: 'error', Errors: [{ ErrorCode: 'mj-0013', StatusCode: 400, ErrorMessage: 'invalid', ErrorRelatedTo: ['To[0].Email'] }] },
          ],
        }),
        expect: { outcome: 'ok', id: 'uuid-1' },
      },
      {
        name: 'a 200 whose message says "error" was not sent',
        reply: json(200, { Messages: [{ Status: 'error', Errors: [{ ErrorCode: 'mj-0004', StatusCode: 400, ErrorMessage: 'Type mismatch.' }] }] }),
        expect: { outcome: 'permanent', code: 'REJECTED' },
      },
    ],
  },
  {
    label: 'mailtrap',
    settings: (base_url) => ({ provider: 'mailtrap', api_token: mailtrapToken, base_url }),
    request: {
      path: '/api/send',
      headers: { authorization: `Bearer ${mailtrapToken}` },
      fields: {
        'from.email': 'sender@example.com', 'from.name': 'Sender Name', 'to.0.email': 'ann@example.com', 'cc.0.email': 'carol@example.com',
        'bcc.0.email': 'dave@example.com', 'headers.Reply-To': 'replies@example.com', 'headers.X-Campaign': 'spring',
        subject: 'Conformance check', text: 'plain body', 'attachments.1.content_id': 'logo', category: 'welcome', 'custom_variables.user_id': '42',
      },
    },
    ...mailtrapBase,
    special: [
      {
        name: 'a 200 with success: false was not sent',
        reply: json(200, { success: false, errors: ['bcc address is invalid'] }),
        expect: { outcome: 'permanent', code: 'REJECTED' },
      },
    ],
  },
  {
    label: 'mailtrap (sandbox inbox)',
    settings: (base_url) => ({ provider: 'mailtrap', api_token: mailtrapToken, inbox_id: 2564102, base_url }),
    request: { path: '/api/send/2564102', headers: { authorization: `Bearer ${mailtrapToken}` }, fields: { subject: 'Conformance check' } },
    ...mailtrapBase,
  },
  {
    label: 'mandrill',
    settings: (base_url) => ({ provider: 'mandrill', key: mandrillKey, base_url }),
    secret: mandrillKey,
    request: {
      path: '/api/1.0/messages/send',
      headers: {},
      fields: {
        // Mandrill authenticates with the key in the body.
        key: mandrillKey, 'message.from_email': 'sender@example.com', 'message.from_name': 'Sender Name',
        'message.to.0': { email: 'ann@example.com', name: 'Ann Example', type: 'to' }, 'message.to.2.type': 'cc', 'message.to.3': { email: 'dave@example.com', type: 'bcc' },
        'message.subject': 'Conformance check', 'message.headers.Reply-To': 'replies@example.com', 'message.images.0.name': 'logo',
        'message.attachments.0.name': 'report.txt', 'message.tags': ['welcome'], 'message.metadata.user_id': '42',
      },
    },
    success: {
      reply: json(200, [
        { email: 'ann@example.com', status: 'sent', reject_reason: null, _id: 'abc123abc123abc123abc123abc123ab' },
        { email: 'bob@example.com', status: 'queued', reject_reason: null, _id: 'def456def456def456def456def456de' },
      ]),
      id: 'abc123abc123abc123abc123abc123ab',
    },
    // Mandrill reports refusals with HTTP 500 and a name.
    permanent: { reply: json(500, { status: 'error', code: -2, name: 'ValidationError', message: 'Validation error: {"message":{"to":[{"email":"Please enter a valid email address"}]}}' }), code: 'REJECTED' },
    unauthorized: json(500, { status: 'error', code: -1, name: 'Invalid_Key', message: 'Invalid API key' }),
    rateLimited: json(429, { status: 'error', message: 'Too many requests' }),
    unavailable: json(500, { status: 'error', code: -1, name: 'GeneralError', message: 'An unexpected error occurred processing the request.' }),
    special: [
      {
        name: 'a 200 where every recipient was rejected: permanent',
        reply: json(200, [
          { email: 'ann@example.com', status: 'rejected', reject_reason: 'hard-bounce', _id: 'r1' },
          { email: 'bob@example.com', status: 'invalid', reject_reason: null, _id: 'r2' },
        ]),
        expect: { outcome: 'permanent', code: 'RECIPIENT_REJECTED' },
      },
      {
        name: 'a 200 where one recipient was accepted was sent',
        reply: json(200, [
          { email: 'ann@example.com', status: 'rejected', reject_reason: 'unsub', _id: 'r1' },
          { email: 'bob@example.com', status: 'sent', reject_reason: null, _id: 'r2' },
        ]),
        expect: { outcome: 'ok', id: 'r2' },
      },
      {
        name: 'PaymentRequired is an account problem: permanent',
        reply: json(500, { status: 'error', code: -1, name: 'PaymentRequired', message: 'This feature is only available for paid accounts.' }),
        expect: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' },
      },
    ],
  },
];

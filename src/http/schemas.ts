// JSON Schema for every API route's request and responses. Fastify validates with them,
// serializes with them, and @fastify/swagger turns them into /openapi.json.
import { priorities, statuses } from '../email/message.ts';
import { errorStatus } from '../errors.ts';
import { suppressionReasons } from '../store/suppression-store.ts';

const addressOrList = {
  anyOf: [
    { type: 'string', maxLength: 998 },
    { type: 'array', items: { type: 'string', maxLength: 998 }, maxItems: 1000 },
  ],
} as const;

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
// Any JSON object: a template's context is the caller's own data.
const anyObject = { type: 'object', additionalProperties: true } as const;

export const templateName = { type: 'string', pattern: '^[a-zA-Z0-9_.-]{1,128}$' } as const;
export const templateLanguage = {
  type: 'string',
  pattern: '^[A-Za-z0-9_-]{0,35}$',
  description: "a language tag such as de or pt-BR; '' (the default) is the template a missing translation falls back to",
} as const;

export const emailBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', maxLength: 998 },
    to: addressOrList,
    cc: addressOrList,
    bcc: addressOrList,
    reply_to: addressOrList,
    subject: { type: 'string', maxLength: 998 },
    text: { type: 'string' },
    html: { type: 'string' },
    headers: stringMap,
    attachments: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['filename', 'content'],
        properties: {
          filename: { type: 'string', minLength: 1, maxLength: 255 },
          content: { type: 'string', description: 'base64' },
          content_type: { type: 'string', maxLength: 255 },
          content_id: { type: 'string', minLength: 1, maxLength: 255 },
        },
      },
    },
    priority: { type: 'string', enum: priorities, default: 'medium' },
    scheduled_at: { type: 'string', format: 'date-time' },
    expires_at: { type: 'string', format: 'date-time' },
    backend: { type: 'string', default: 'default' },
    tags: { type: 'array', items: { type: 'string', maxLength: 255 }, maxItems: 50 },
    metadata: stringMap,
    template: { ...templateName, description: 'a stored template gives subject, text and html' },
    language: templateLanguage,
    context: { ...anyObject, description: 'the variables the template renders with' },
    render_on_delivery: { type: 'boolean', description: 'render in the worker at delivery instead of at enqueue' },
  },
} as const;

export const batchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['emails'],
  properties: { emails: { type: 'array', items: emailBody, minItems: 1, maxItems: 1000 } },
} as const;

export const idempotencyHeaders = {
  type: 'object',
  properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 } },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  // maxLength, because format "uuid" also accepts "urn:uuid:…", which PostgreSQL rejects (a 500).
  properties: { id: { type: 'string', format: 'uuid', maxLength: 36 } },
} as const;

/** Per-recipient statuses (docs/webhooks.md). */
export const recipientStatuses = ['queued', 'sent', 'delivered', 'deferred', 'bounced', 'complained', 'rejected', 'suppressed'] as const;
/** The statuses an event or suppression records, which the list can filter by. */
export const recordedRecipientStatuses = ['delivered', 'deferred', 'bounced', 'complained', 'rejected', 'suppressed'] as const;

export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: statuses },
    recipient_status: { type: 'string', enum: recordedRecipientStatuses },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
    cursor: { type: 'string', maxLength: 200 },
  },
} as const;

const nullableDate = { type: ['string', 'null'], format: 'date-time' } as const;

export const acceptedEmail = {
  type: 'object',
  required: ['id', 'status'],
  properties: { id: { type: 'string' }, status: { type: 'string', enum: statuses } },
} as const;

const emailProperties = {
  id: { type: 'string' },
  status: { type: 'string', enum: statuses },
  priority: { type: 'string', enum: priorities },
  backend: { type: 'string' },
  /** The backend that made the latest attempt: `backend`, or one of its fallbacks (docs/providers.md "Failover"). */
  sent_via: { type: ['string', 'null'] },
  from: { type: 'string' },
  to: { type: 'array', items: { type: 'string' } },
  cc: { type: 'array', items: { type: 'string' } },
  bcc: { type: 'array', items: { type: 'string' } },
  reply_to: { type: 'array', items: { type: 'string' } },
  subject: { type: 'string' },
  tags: { type: 'array', items: { type: 'string' } },
  metadata: stringMap,
  attempts: { type: 'integer' },
  provider_message_id: { type: ['string', 'null'] },
  last_error: { type: ['string', 'null'] },
  created_at: { type: 'string', format: 'date-time' },
  updated_at: { type: 'string', format: 'date-time' },
  scheduled_at: nullableDate,
  expires_at: nullableDate,
  sent_at: nullableDate,
} as const;

export const emailSummary = {
  type: 'object',
  required: Object.keys(emailProperties),
  properties: emailProperties,
} as const;

export const emailDetail = {
  type: 'object',
  required: [...Object.keys(emailProperties), 'logs', 'recipients'],
  properties: {
    ...emailProperties,
    recipients: {
      type: 'array',
      items: {
        type: 'object',
        required: ['address', 'status', 'at', 'code', 'message'],
        properties: {
          address: { type: 'string' },
          status: { type: 'string', enum: recipientStatuses },
          at: nullableDate,
          code: { type: ['string', 'null'] },
          message: { type: ['string', 'null'] },
        },
      },
    },
    logs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['at', 'attempt', 'backend', 'status', 'code', 'message'],
        properties: {
          at: { type: 'string', format: 'date-time' },
          attempt: { type: 'integer' },
          backend: { type: ['string', 'null'] },
          status: { type: 'string' },
          code: { type: ['string', 'null'] },
          message: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

export const templateParams = {
  type: 'object',
  required: ['name'],
  properties: { name: templateName },
} as const;

export const templateQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { language: templateLanguage },
} as const;

export const templateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['subject'],
  properties: {
    language: templateLanguage,
    description: { type: 'string', maxLength: 1000 },
    subject: { type: 'string', minLength: 1, maxLength: 4000 },
    text: { type: 'string' },
    html: { type: 'string' },
    example_context: { ...anyObject, description: 'what preview renders with when given no context' },
    strict_variables: { type: 'boolean', default: false, description: 'an undefined variable fails the render' },
    text_from_html: { type: 'boolean', default: true, description: 'without a text template, make the text part from the HTML' },
    inline_css: { type: 'boolean', default: false, description: 'move <style> rules into style attributes' },
  },
} as const;

const nullableString = { type: ['string', 'null'] } as const;

export const template = {
  type: 'object',
  required: ['name', 'language', 'description', 'subject', 'text', 'html', 'example_context', 'strict_variables',
    'text_from_html', 'inline_css', 'created_at', 'updated_at'],
  properties: {
    name: { type: 'string' },
    language: { type: 'string' },
    description: nullableString,
    subject: { type: 'string' },
    text: nullableString,
    html: nullableString,
    example_context: { type: ['object', 'null'], additionalProperties: true },
    strict_variables: { type: 'boolean' },
    text_from_html: { type: 'boolean' },
    inline_css: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const templateList = {
  type: 'object',
  required: ['templates'],
  properties: {
    templates: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'description', 'languages', 'updated_at'],
        properties: {
          name: { type: 'string' },
          description: nullableString,
          languages: { type: 'array', items: { type: 'string' } },
          updated_at: { type: 'string', format: 'date-time' },
        },
      },
    },
  },
} as const;

export const previewBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    language: templateLanguage,
    context: { ...anyObject, description: "the variables to render with; the template's example_context when left out" },
  },
} as const;

export const preview = {
  type: 'object',
  required: ['language', 'subject', 'text', 'html'],
  properties: {
    language: { type: 'string', description: 'the language rendered: the one asked for, or the default it fell back to' },
    subject: { type: 'string' },
    text: nullableString,
    html: nullableString,
  },
} as const;

export const errorBody = {
  type: 'object',
  required: ['statusCode', 'code', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', enum: Object.keys(errorStatus) },
    message: { type: 'string' },
  },
} as const;

/** The error responses a route can give, for its `response` schema. */
export function errors(...codes: number[]) {
  return Object.fromEntries([...codes, 401, 500, 503].map((code) => [code, errorBody]));
}

export const suppressionEntry = {
  type: 'object',
  required: ['address', 'reason', 'backend', 'detail', 'created_at'],
  properties: {
    address: { type: 'string' },
    reason: { type: 'string', enum: suppressionReasons },
    backend: { type: ['string', 'null'] },
    detail: { type: ['string', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const suppressionParams = {
  type: 'object',
  required: ['address'],
  properties: { address: { type: 'string', minLength: 3, maxLength: 320 } },
} as const;

export const suppressionBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    reason: { type: 'string', enum: suppressionReasons, default: 'manual' },
    detail: { type: 'string', maxLength: 1000 },
  },
} as const;

export const suppressionListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    cursor: { type: 'string', maxLength: 500 },
  },
} as const;

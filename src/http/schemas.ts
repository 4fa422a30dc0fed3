// JSON Schema for every API route's request and responses. Fastify validates with them,
// serializes with them, and @fastify/swagger turns them into /openapi.json.
import { priorities, statuses } from '../email/message.ts';
import { errorStatus } from '../errors.ts';

const addressOrList = {
  anyOf: [
    { type: 'string', maxLength: 998 },
    { type: 'array', items: { type: 'string', maxLength: 998 }, maxItems: 1000 },
  ],
} as const;

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

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

export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: statuses },
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
  required: [...Object.keys(emailProperties), 'logs'],
  properties: {
    ...emailProperties,
    logs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['at', 'attempt', 'status', 'code', 'message'],
        properties: {
          at: { type: 'string', format: 'date-time' },
          attempt: { type: 'integer' },
          status: { type: 'string' },
          code: { type: ['string', 'null'] },
          message: { type: ['string', 'null'] },
        },
      },
    },
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

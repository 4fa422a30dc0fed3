// The checks a mail system needs beyond JSON Schema: real address parsing, no CR/LF in any
// header, valid base64, a known backend, a sane schedule. Each error names its field.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type MimeTypes from 'mime-types';
import { v7 as uuidv7 } from 'uuid';
import { PostOfficeError } from '../errors.ts';
import { parseMailbox } from './addresses.ts';
import { checkContext, checkStorableKey, checkStorableText } from './storable.ts';
import type { Attachment, AttachmentBlob, NewEmail, Priority, StoredAttachment, TemplateRef } from './message.ts';

// mime-types parses its whole database (≈ 0.5 MiB of heap) when loaded; only an attachment
// without a content_type needs it, so it loads on the first one.
const load = createRequire(import.meta.url);
let mimeTypes: typeof MimeTypes | undefined;
const contentTypeOf = (filename: string): string => (mimeTypes ??= load('mime-types') as typeof MimeTypes).lookup(filename) || 'application/octet-stream';

/** An email as the API receives it, after JSON Schema validation. */
export interface EmailRequest {
  from?: string;
  to?: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  reply_to?: string | string[];
  subject?: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: Attachment[];
  priority?: Priority;
  scheduled_at?: string;
  expires_at?: string;
  backend?: string;
  tags?: string[];
  metadata?: Record<string, string>;
  /** A stored template gives subject, text and html (src/enqueue/templates.ts renders it). */
  template?: string;
  /** The translation to use; the default ('') when missing. */
  language?: string;
  context?: Record<string, unknown>;
  /** Render in the worker thread at delivery instead of now. */
  render_on_delivery?: boolean;
}

export interface ValidationContext {
  defaultFrom: string | undefined;
  backends: readonly string[];
}

// Headers the API builds from its own fields; setting them in `headers` would conflict.
const reservedHeaders = new Set([
  'from', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'message-id', 'date', 'mime-version',
  'content-type', 'content-transfer-encoding',
]);
// RFC 5322 field name: printable US-ASCII except colon.
const headerName = /^[\x21-\x39\x3b-\x7e]+$/;
const notBase64 = /[^A-Za-z0-9+/=]/;

/**
 * Padded standard base64. Checked without a pattern of repeated groups: V8 keeps backtracking
 * state per repetition, and a multi-megabyte attachment overflowed the stack (a 500, not a 400).
 */
function isBase64(text: string): boolean {
  if (text.length % 4 !== 0 || notBase64.test(text)) return false;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const firstPad = text.indexOf('=');
  return firstPad === -1 || firstPad === text.length - padding;
}
const contentType = /^[\w.+-]+\/[\w.+-]+(?:\s*;\s*[\w.+-]+=(?:[\w.+-]+|"[^"\r\n]*"))*$/;
const crlf = /[\r\n]/;

function fail(code: ConstructorParameters<typeof PostOfficeError>[0], field: string, message: string): never {
  throw new PostOfficeError(code, `${field}: ${message}`);
}

function noCrLf(field: string, value: string): void {
  if (crlf.test(value)) fail('INVALID_HEADER', field, 'must not contain CR or LF');
  checkStorableText('INVALID_HEADER', field, value);
}

// What timestamptz holds and a schedule can mean: year 0000 does not exist in PostgreSQL, and
// a date before the epoch or past 9999 is a bug in the caller, not a plan.
const earliestDate = Date.UTC(1970, 0, 1);
const latestDate = Date.UTC(10000, 0, 1);

/** JSON Schema's date-time admits what Date cannot hold (a leap second, 23:59:60Z); never store that as "no date". */
function date(field: string, value: string | undefined): Date | null {
  if (value === undefined) return null;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) fail('INVALID_SCHEDULE', field, `'${value}' is not a date-time this service can store`);
  if (parsed.getTime() < earliestDate || parsed.getTime() >= latestDate) fail('INVALID_SCHEDULE', field, `'${value}' is outside the years 1970 to 9999`);
  return parsed;
}

function addressList(prefix: string, field: string, value: string | string[] | undefined): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.map((entry, index) => {
    const name = `${prefix}${field}[${index}]`;
    checkStorableText('INVALID_ADDRESS', name, entry);
    if (parseMailbox(entry) === null) fail('INVALID_ADDRESS', name, `'${entry}' is not a valid address`);
    return entry.trim();
  });
}

/** Checks each attachment and splits it into what the email row keeps and the content blob. */
function attachments(prefix: string, list: Attachment[] | undefined): { stored: StoredAttachment[]; blobs: AttachmentBlob[] } {
  const stored: StoredAttachment[] = [];
  const blobs: AttachmentBlob[] = [];
  (list ?? []).forEach((attachment, index) => {
    const field = `${prefix}attachments[${index}]`;
    if (crlf.test(attachment.filename)) fail('INVALID_ATTACHMENT', `${field}.filename`, 'must not contain CR or LF');
    checkStorableText('INVALID_ATTACHMENT', `${field}.filename`, attachment.filename);
    if (attachment.content_type !== undefined) checkStorableText('INVALID_ATTACHMENT', `${field}.content_type`, attachment.content_type);
    if (attachment.content_id !== undefined) checkStorableText('INVALID_ATTACHMENT', `${field}.content_id`, attachment.content_id);
    if (!isBase64(attachment.content)) fail('INVALID_ATTACHMENT', `${field}.content`, 'is not valid base64');
    if (attachment.content_type !== undefined && !contentType.test(attachment.content_type)) {
      fail('INVALID_ATTACHMENT', `${field}.content_type`, `'${attachment.content_type}' is not a MIME type like image/png`);
    }
    if (attachment.content_id !== undefined && /[\r\n<>\s]/.test(attachment.content_id)) {
      fail('INVALID_ATTACHMENT', `${field}.content_id`, 'must not contain spaces, CR, LF, < or >');
    }
    const bytes = Buffer.from(attachment.content, 'base64');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    stored.push({
      filename: attachment.filename,
      // Detected from the file name when not given, so providers never guess.
      content_type: attachment.content_type ?? contentTypeOf(attachment.filename),
      ...(attachment.content_id === undefined ? {} : { content_id: attachment.content_id }),
      sha256,
      size: bytes.length,
    });
    blobs.push({ sha256, content: attachment.content, size: bytes.length });
  });
  return { stored, blobs };
}

/** A template email's subject and bodies come from the template, so the request gives none. */
function templateRef(prefix: string, body: EmailRequest): TemplateRef | undefined {
  if (body.template === undefined) {
    if (body.language !== undefined || body.context !== undefined || body.render_on_delivery !== undefined) {
      fail('VALIDATION_FAILED', `${prefix}template`, 'is required with language, context or render_on_delivery');
    }
    return undefined;
  }
  if (body.subject !== undefined || body.text !== undefined || body.html !== undefined) {
    fail('VALIDATION_FAILED', `${prefix}template`, 'cannot be combined with subject, text or html: they come from the template');
  }
  // Checked in both modes: stored with render_on_delivery, and rendered into the stored bodies otherwise.
  if (body.context !== undefined) checkContext(`${prefix}context`, body.context);
  return { name: body.template, language: body.language ?? '', context: body.context ?? {} };
}

/**
 * Turns one request into a row to insert, or throws a 4xx naming the field. An email with a
 * template comes out with `message.template` set and no subject or bodies yet: applyTemplates
 * (src/enqueue/templates.ts) renders it or, with render_on_delivery, leaves it for the worker.
 */
export function validateEmail(body: EmailRequest, context: ValidationContext, prefix = ''): NewEmail {
  const fromValue = body.from ?? context.defaultFrom;
  if (fromValue === undefined) fail('MISSING_FROM', `${prefix}from`, 'is required (or set POST_OFFICE_DEFAULT_FROM)');
  checkStorableText('INVALID_ADDRESS', `${prefix}from`, fromValue);
  // One address, so the message names "from", not "from[0]".
  if (parseMailbox(fromValue) === null) fail('INVALID_ADDRESS', `${prefix}from`, `'${fromValue}' is not a valid address`);
  const from = fromValue.trim();
  const to = addressList(prefix, 'to', body.to);
  const cc = addressList(prefix, 'cc', body.cc);
  const bcc = addressList(prefix, 'bcc', body.bcc);
  const replyTo = addressList(prefix, 'reply_to', body.reply_to);
  if (to.length + cc.length + bcc.length === 0) fail('NO_RECIPIENTS', `${prefix}to`, 'at least one recipient is required in to, cc or bcc');

  const template = templateRef(prefix, body);
  // Nothing to read is almost always a caller's bug (a misspelt field, a lost template name),
  // and providers would deliver it blank. A template gives its own subject and bodies.
  if (template === undefined && !body.subject && !body.text && !body.html && (body.attachments ?? []).length === 0) {
    fail('EMPTY_EMAIL', `${prefix}subject`, 'an email needs a subject, text, html, an attachment or a template');
  }
  const subject = body.subject ?? '';
  noCrLf(`${prefix}subject`, subject);
  if (body.text !== undefined) checkStorableText('INVALID_TEXT', `${prefix}text`, body.text);
  if (body.html !== undefined) checkStorableText('INVALID_TEXT', `${prefix}html`, body.html);
  const headers = body.headers ?? {};
  for (const [name, value] of Object.entries(headers)) {
    if (!headerName.test(name)) fail('INVALID_HEADER', `${prefix}headers`, `${JSON.stringify(name)} is not a valid header name`);
    if (reservedHeaders.has(name.toLowerCase())) fail('INVALID_HEADER', `${prefix}headers.${name}`, 'is set from the email\'s own fields');
    noCrLf(`${prefix}headers.${name}`, value);
  }
  (body.tags ?? []).forEach((tag, index) => noCrLf(`${prefix}tags[${index}]`, tag));
  for (const [name, value] of Object.entries(body.metadata ?? {})) {
    checkStorableKey('INVALID_HEADER', `${prefix}metadata`, name);
    noCrLf(`${prefix}metadata.${name}`, value);
  }

  const backend = body.backend ?? 'default';
  if (!context.backends.includes(backend)) {
    fail('UNKNOWN_BACKEND', `${prefix}backend`, `'${backend}' is not a configured backend (configured: ${context.backends.join(', ')})`);
  }
  const scheduledAt = date(`${prefix}scheduled_at`, body.scheduled_at);
  const expiresAt = date(`${prefix}expires_at`, body.expires_at);
  if (expiresAt !== null && scheduledAt !== null && expiresAt <= scheduledAt) {
    fail('INVALID_SCHEDULE', `${prefix}expires_at`, 'must be after scheduled_at');
  }

  const id = uuidv7();
  const { stored, blobs } = attachments(prefix, body.attachments);
  return {
    id,
    priority: body.priority ?? 'medium',
    backend,
    scheduledAt,
    expiresAt,
    message: {
      id,
      from,
      to,
      cc,
      bcc,
      reply_to: replyTo,
      subject,
      ...(body.text === undefined ? {} : { text: body.text }),
      ...(body.html === undefined ? {} : { html: body.html }),
      headers,
      attachments: stored,
      tags: body.tags ?? [],
      metadata: body.metadata ?? {},
      ...(template === undefined ? {} : { template }),
    },
    blobs,
    renderOnDelivery: body.render_on_delivery === true,
  };
}

// The checks a mail system needs beyond JSON Schema: real address parsing, no CR/LF in any
// header, valid base64, a known backend, a sane schedule. Each error names its field.
import { createHash } from 'node:crypto';
import mime from 'mime-types';
import { v7 as uuidv7 } from 'uuid';
import { PostOfficeError } from '../errors.ts';
import { formatBytes } from '../providers/limits.ts';
import { parseMailbox } from './addresses.ts';
import type { Attachment, AttachmentBlob, NewEmail, Priority, StoredAttachment, StoredMessage, TemplateRef } from './message.ts';

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
  /** A stored template gives subject, text and html (src/templates/enqueue.ts renders it). */
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
}

/** JSON Schema's date-time admits what Date cannot hold (a leap second, 23:59:60Z); never store that as "no date". */
function date(field: string, value: string | undefined): Date | null {
  if (value === undefined) return null;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) fail('INVALID_SCHEDULE', field, `'${value}' is not a date-time this service can store`);
  return parsed;
}

function addressList(prefix: string, field: string, value: string | string[] | undefined): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.map((entry, index) => {
    const name = `${prefix}${field}[${index}]`;
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
      content_type: attachment.content_type ?? (mime.lookup(attachment.filename) || 'application/octet-stream'),
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
  return { name: body.template, language: body.language ?? '', context: body.context ?? {} };
}

/**
 * Turns one request into a row to insert, or throws a 4xx naming the field. An email with a
 * template comes out with `message.template` set and no subject or bodies yet: applyTemplates
 * (src/templates/enqueue.ts) renders it or, with render_on_delivery, leaves it for the worker.
 */
export function validateEmail(body: EmailRequest, context: ValidationContext, prefix = ''): NewEmail {
  const fromValue = body.from ?? context.defaultFrom;
  if (fromValue === undefined) fail('MISSING_FROM', `${prefix}from`, 'is required (or set POST_OFFICE_DEFAULT_FROM)');
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
  const headers = body.headers ?? {};
  for (const [name, value] of Object.entries(headers)) {
    if (!headerName.test(name)) fail('INVALID_HEADER', `${prefix}headers`, `${JSON.stringify(name)} is not a valid header name`);
    if (reservedHeaders.has(name.toLowerCase())) fail('INVALID_HEADER', `${prefix}headers.${name}`, 'is set from the email\'s own fields');
    noCrLf(`${prefix}headers.${name}`, value);
  }
  (body.tags ?? []).forEach((tag, index) => noCrLf(`${prefix}tags[${index}]`, tag));
  for (const [name, value] of Object.entries(body.metadata ?? {})) noCrLf(`${prefix}metadata.${name}`, value);

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
  };
}

/** Base64 as MIME writes it: 4 characters per 3 bytes, a CRLF after every 76. */
function base64Bytes(size: number): number {
  const encoded = Math.ceil(size / 3) * 4;
  return encoded + Math.ceil(encoded / 76) * 2;
}

// A part's boundary line and its Content-Type, -Transfer-Encoding, -Disposition and -ID headers.
const PART_OVERHEAD = 300;
// Message-ID, Date, MIME-Version, the multipart boundaries and the like.
const MESSAGE_OVERHEAD = 1000;

/**
 * Text as MIME encodes it, counted over rather than under. nodemailer (whose bytes the outbox,
 * SMTP and SES send) picks quoted-printable while Latin letters outnumber other characters and
 * base64 otherwise; quoted-printable turns each byte of a non-ASCII character into "=XX" and
 * wraps lines at 76 with a soft break. `either`: whichever is larger (for header values).
 */
function textBytes(value: string, either = false): number {
  let latin = 0;
  let other = 0;
  let qp = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
      latin++;
      qp++;
    } else if (c >= 0x80) {
      other++;
      // UTF-8 bytes per UTF-16 unit (a surrogate is half of a 4-byte character), 3 characters each.
      qp += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 6 : 9;
    } else if (c === 0x0a) {
      qp += 2; // LF is sent as CRLF
    } else if (c === 0x3d || (c < 0x20 && c !== 0x09 && c !== 0x0d)) {
      other += c === 0x3d ? 0 : 1;
      qp += 3;
    } else {
      qp++;
    }
  }
  const quoted = Math.ceil((qp * 76) / 72);
  const base64 = base64Bytes(Buffer.byteLength(value));
  if (either) return Math.max(quoted, base64);
  return other < latin ? quoted : base64;
}

/**
 * How large each part of the message would be as MIME, a little over rather than under: bodies
 * and header values as nodemailer would encode them, attachments as base64 with line breaks —
 * also how the providers measure their limits.
 */
export function estimateMimeBytes(message: StoredMessage): { headers: number; text: number; html: number; attachments: number } {
  // Name, colon, value (in encoded words: about 12 bytes of "=?UTF-8?Q?…?=" per 52 characters), CRLF.
  const field = (name: string, value: string) => name.length + 2 + textBytes(value, true) + 12 * Math.ceil(value.length / 52) + 2;
  const addresses: Array<[string, string[]]> = [['From', [message.from]], ['To', message.to], ['Cc', message.cc], ['Bcc', message.bcc], ['Reply-To', message.reply_to]];
  let headers = MESSAGE_OVERHEAD + field('Subject', message.subject);
  for (const [name, list] of addresses) if (list.length > 0) headers += field(name, list.join(', '));
  for (const [name, value] of Object.entries(message.headers)) headers += field(name, value);
  const body = (value: string | undefined) => (value === undefined ? 0 : PART_OVERHEAD + textBytes(value));
  const attachments = message.attachments.reduce(
    (sum, a) => sum + PART_OVERHEAD + field('filename', a.filename) + base64Bytes(a.size),
    0,
  );
  return { headers, text: body(message.text), html: body(message.html), attachments };
}

/** The most a backend accepts, and what to call it in an error. */
export interface SizeLimit {
  backend: string;
  provider: string;
  maxBytes: number | null;
}

/**
 * Refuses, before anything is stored, an email its backend's provider would refuse at delivery
 * for its size. The message names the part that weighs most (attachments, usually) and both sizes.
 */
export function checkMessageSize(email: NewEmail, limit: SizeLimit, prefix = ''): void {
  if (limit.maxBytes === null) return;
  const parts = estimateMimeBytes(email.message);
  const total = parts.headers + parts.text + parts.html + parts.attachments;
  if (total <= limit.maxBytes) return;
  const [heaviest] = (Object.entries(parts) as Array<[keyof typeof parts, number]>).sort((a, b) => b[1] - a[1]);
  fail(
    'MESSAGE_TOO_LARGE',
    `${prefix}${heaviest![0]}`,
    `the message would be ${formatBytes(total, 'up')}; backend '${limit.backend}' (${limit.provider}) accepts at most ${formatBytes(limit.maxBytes, 'down')}`,
  );
}

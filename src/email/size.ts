// How large an email will be once it is MIME, estimated before it is stored, and the check of
// that estimate against its backend's limit (413 MESSAGE_TOO_LARGE at enqueue, not a provider's
// refusal at delivery).
import { PostOfficeError } from '../errors.ts';
import type { NewEmail, StoredMessage } from './message.ts';

const MB = 1_000_000;

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
  throw new PostOfficeError(
    'MESSAGE_TOO_LARGE',
    `${prefix}${heaviest![0]}: the message would be ${formatBytes(total, 'up')}; backend '${limit.backend}' (${limit.provider}) accepts at most ${formatBytes(limit.maxBytes, 'down')}`,
  );
}

/**
 * "12.4 MB", "10 MB", "980 KB": decimal units, as the providers write their limits. A size is
 * rounded up and a limit down, so 10.04 MB over a 10 MB limit reads "10.1 MB", never "10 MB".
 */
export function formatBytes(bytes: number, round: 'up' | 'down'): string {
  const [value, unit] = bytes >= MB ? [bytes / MB, 'MB'] : bytes >= 1000 ? [bytes / 1000, 'KB'] : [bytes, 'bytes'];
  const tenths = (round === 'up' ? Math.ceil(value * 10) : Math.floor(value * 10)) / 10;
  return `${Number.isInteger(tenths) ? String(tenths) : tenths.toFixed(1)} ${unit}`;
}

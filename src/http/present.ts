// How an email row looks in the API, and the opaque list cursor.
import { bareAddress } from '../email/addresses.ts';
import { PostOfficeError } from '../errors.ts';
import type { EmailRow, RecipientRow } from '../store/store.ts';

export function toApiEmail(row: EmailRow) {
  const { message } = row;
  return {
    id: row.id,
    status: row.status,
    priority: row.priority,
    backend: row.backend,
    sent_via: row.sent_via,
    from: message.from,
    to: message.to,
    cc: message.cc,
    bcc: message.bcc,
    reply_to: message.reply_to,
    subject: message.subject,
    tags: message.tags,
    metadata: message.metadata,
    attempts: row.attempts,
    provider_message_id: row.provider_message_id,
    last_error: row.last_error,
    created_at: row.created_at,
    updated_at: row.updated_at,
    scheduled_at: row.scheduled_at,
    expires_at: row.expires_at,
    sent_at: row.sent_at,
  };
}

/**
 * Every recipient with its status: what an event or suppression recorded (email_recipients),
 * else what the email's own status implies — `sent` once the provider accepted it, `rejected`
 * when the provider refused it, `queued` while it has not been handed over (or never was).
 */
export function toApiRecipients(row: EmailRow, recorded: readonly RecipientRow[], lastCode: string | null) {
  const byAddress = new Map(recorded.map((recipient) => [recipient.address, recipient]));
  const { to, cc, bcc } = row.message;
  const addresses = [...new Set([...to, ...cc, ...bcc].map((address) => bareAddress(address).toLowerCase()))];
  const refused = row.status === 'failed' && (lastCode === 'REJECTED' || lastCode === 'RECIPIENT_REJECTED');
  return addresses.map((address) => {
    const found = byAddress.get(address);
    if (found !== undefined) return { address, status: found.status, at: found.at, code: found.code, message: found.message };
    if (row.status === 'sent') return { address, status: 'sent', at: row.sent_at, code: null, message: null };
    if (refused) return { address, status: 'rejected', at: row.updated_at, code: null, message: row.last_error };
    return { address, status: 'queued', at: null, code: null, message: null };
  });
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!uuid.test(id)) throw new PostOfficeError('INVALID_CURSOR', 'cursor: not a cursor this API returned');
  return id;
}

/** A query string holds only strings; with coercion off, "?limit=20" becomes the integer here (a list route's preValidation). */
export async function integerLimit(request: { query: unknown }): Promise<void> {
  const query = request.query as Record<string, unknown>;
  if (typeof query.limit === 'string' && /^\d{1,9}$/.test(query.limit)) query.limit = Number(query.limit);
}

/** One page of `rows` (read with limit + 1) and the cursor of the next, null on the last. */
export function pageOf<T>(rows: readonly T[], limit: number, cursorOf: (last: T) => string): { items: T[]; next: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}

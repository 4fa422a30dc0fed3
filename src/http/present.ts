// How an email row looks in the API, and the opaque list cursor.
import { PostOfficeError } from '../errors.ts';
import type { EmailRow } from '../store/store.ts';

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

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!uuid.test(id)) throw new PostOfficeError('INVALID_CURSOR', 'cursor: not a cursor this API returned');
  return id;
}

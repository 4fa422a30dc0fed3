// The SQL side of attachments stored once (migration 0003): what the enqueue statement writes
// for them, and how a claim gets their content back. Part of the queue store (store.ts).
import type pg from 'pg';
import type { AttachmentBlob, NewEmail, StoredMessage } from '../email/message.ts';

/** The blobs of a group of emails, each content once (one INSERT cannot touch a row twice). */
export function blobRecordset(emails: readonly NewEmail[]): [blobs: string, links: string] {
  const blobs = new Map<string, AttachmentBlob>();
  const links: { email_id: string; sha256: string }[] = [];
  for (const email of emails) {
    for (const blob of email.blobs) {
      blobs.set(blob.sha256, blob);
      links.push({ email_id: email.id, sha256: blob.sha256 });
    }
  }
  return [JSON.stringify([...blobs.values()]), JSON.stringify(links)];
}

/** The base64 content of every attachment of these messages, by SHA-256, in one query. */
export async function attachmentContents(pool: pg.Pool, messages: readonly StoredMessage[]): Promise<Map<string, string>> {
  const hashes = [...new Set(messages.flatMap((message) => message.attachments.map((attachment) => attachment.sha256)))];
  if (hashes.length === 0) return new Map();
  const result = await pool.query<{ sha256: string; content: string }>(
    `SELECT sha256, encode(content, 'base64') AS content FROM attachment_blobs WHERE sha256 = ANY($1::text[])`,
    [hashes],
  );
  // encode() wraps base64 at 76 characters; the message builders want it unwrapped.
  return new Map(result.rows.map((row) => [row.sha256, row.content.replace(/\n/g, '')]));
}

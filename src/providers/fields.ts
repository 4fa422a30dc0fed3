// Small shapers shared by the JSON adapters: most provider APIs want {email, name} objects,
// omit empty lists, and treat inline attachments (with a Content-ID) apart from the rest.
import { parseMailbox } from '../email/addresses.ts';
import type { Attachment, EmailMessage } from '../email/message.ts';

export interface Address {
  email: string;
  name?: string;
}

/** `Name <addr>` → {email, name}; addresses were validated at enqueue, so parsing succeeds. */
export function address(input: string): Address {
  const parsed = parseMailbox(input);
  if (parsed === null) return { email: input.trim() };
  return parsed.name ? { email: parsed.address, name: parsed.name } : { email: parsed.address };
}

export { bareAddress as bare } from '../email/addresses.ts';

/** A list, or undefined when empty, so JSON.stringify leaves the field out. */
export function some<T>(list: readonly T[]): T[] | undefined {
  return list.length > 0 ? [...list] : undefined;
}

/** A record, or undefined when empty. */
export function someRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> | undefined {
  return Object.keys(record).length > 0 ? { ...record } : undefined;
}

export function mimeType(attachment: Attachment): string {
  return attachment.content_type ?? 'application/octet-stream';
}

export function regularAttachments(message: EmailMessage): Attachment[] {
  return message.attachments.filter((a) => a.content_id === undefined);
}

export function inlineAttachments(message: EmailMessage): Array<Attachment & { content_id: string }> {
  return message.attachments.filter((a): a is Attachment & { content_id: string } => a.content_id !== undefined);
}

/** The custom headers plus Reply-To, for APIs whose reply-to field takes a single address. */
export function headersWithReplyTo(message: EmailMessage): Record<string, string> {
  return message.reply_to.length > 0 ? { ...message.headers, 'Reply-To': message.reply_to.join(', ') } : { ...message.headers };
}

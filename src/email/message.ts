// The email as the queue stores it and as it crosses into a worker thread: plain data only,
// because class identity does not survive postMessage.

export const priorities = ['now', 'high', 'medium', 'low'] as const;
export type Priority = (typeof priorities)[number];

/** A priority as stored: its rank in `priorities` (0 = now), so ORDER BY priority is the order. */
export const priorityOf = (rank: number): Priority => priorities[rank] ?? 'medium';

export const statuses = ['queued', 'sending', 'sent', 'failed', 'cancelled', 'expired'] as const;
export type EmailStatus = (typeof statuses)[number];

export interface Attachment {
  filename: string;
  /** base64 */
  content: string;
  content_type?: string;
  /** Makes the attachment inline, referenced as cid:<content_id> from the HTML. */
  content_id?: string;
}

/**
 * A stored template to render when the email is delivered (render_on_delivery): its name, the
 * language asked for (falling back to the default then) and the context to render with.
 */
export interface TemplateRef {
  name: string;
  language: string;
  context: Record<string, unknown>;
}

/** What a provider needs to deliver one email. Addresses are already validated. */
export interface EmailMessage {
  id: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  reply_to: string[];
  subject: string;
  text?: string;
  html?: string;
  headers: Record<string, string>;
  attachments: Attachment[];
  tags: string[];
  metadata: Record<string, string>;
  /** Only until the worker renders it: subject, text and html then come from the template. */
  template?: TemplateRef;
}

/** An attachment as the queue stores it: the content lives once in attachment_blobs. */
export interface StoredAttachment {
  filename: string;
  content_type: string;
  content_id?: string;
  sha256: string;
  size: number;
}

/** The message as stored in the emails table: attachments by reference. */
export type StoredMessage = Omit<EmailMessage, 'attachments'> & { attachments: StoredAttachment[] };

/** Attachment content to store once, keyed by its SHA-256 (hex). */
export interface AttachmentBlob {
  sha256: string;
  /** base64 */
  content: string;
  size: number;
}

/** A validated enqueue request, ready to insert. */
export interface NewEmail {
  id: string;
  priority: Priority;
  backend: string;
  scheduledAt: Date | null;
  expiresAt: Date | null;
  message: StoredMessage;
  blobs: AttachmentBlob[];
  /** With a template: render it in the worker at delivery rather than at enqueue. */
  renderOnDelivery: boolean;
}

// RFC 5322 message bytes, built by nodemailer's MailComposer (never by hand).
import type { EmailMessage } from './message.ts';

function domainOf(address: string): string {
  const match = /@([^>\s]+)>?\s*$/.exec(address);
  return match?.[1] ?? 'post-office.invalid';
}

/**
 * The Message-ID is derived from the email id, so every retry carries the same one. Its domain
 * is POST_OFFICE_MESSAGE_ID_DOMAIN when set — for senders whose From domains are many, or are
 * their customers', and who want ids under a domain of their own — otherwise the From's.
 */
export function messageId(message: EmailMessage, domain?: string): string {
  return `<${message.id}@${domain ?? domainOf(message.from)}>`;
}

export interface MimeOptions {
  messageIdDomain?: string;
}

/** The message as MIME bytes; nodemailer's composer is loaded on first use (by the threads that need it). */
export async function buildMime(message: EmailMessage, options: MimeOptions = {}): Promise<Buffer> {
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer/index.js');
  const composer = new MailComposer({
    from: message.from,
    to: message.to,
    cc: message.cc,
    bcc: message.bcc,
    replyTo: message.reply_to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: message.headers,
    messageId: messageId(message, options.messageIdDomain),
    attachments: message.attachments.map((a) => ({
      filename: a.filename,
      content: a.content,
      encoding: 'base64',
      contentType: a.content_type,
      cid: a.content_id,
    })),
  });
  // keepBcc: the .eml in the outbox and raw-MIME APIs need the Bcc header to know every recipient.
  const node = composer.compile();
  (node as unknown as { keepBcc: boolean }).keepBcc = true;
  return node.build();
}

// Staging safety (POST_OFFICE_OVERRIDE_RECIPIENTS): a staging sidecar fed production-like data
// must never mail a real customer. Every email goes to the override list instead — to, cc and
// bcc alike (django-post_office rewrote only `to`, so cc and bcc still leaked) — and says in
// headers whom it was meant for, so a tester can check the addressing.
import { bareAddress } from '../email/addresses.ts';
import type { EmailMessage } from '../email/message.ts';

export const originalRecipientHeaders = {
  to: 'X-Post-Office-Original-To',
  cc: 'X-Post-Office-Original-Cc',
  bcc: 'X-Post-Office-Original-Bcc',
} as const;

const ours = new Set(Object.values(originalRecipientHeaders).map((name) => name.toLowerCase()));

/** The email as it is sent under the override; unchanged when the list is empty. */
export function overrideRecipients(message: EmailMessage, recipients: readonly string[]): EmailMessage {
  if (recipients.length === 0) return message;
  // An app-supplied header of the same name would make the record ambiguous; ours wins.
  const headers = Object.fromEntries(Object.entries(message.headers).filter(([name]) => !ours.has(name.toLowerCase())));
  for (const field of ['to', 'cc', 'bcc'] as const) {
    // Bare addresses: no display names to quote or encode in any provider's header API.
    if (message[field].length > 0) headers[originalRecipientHeaders[field]] = message[field].map(bareAddress).join(', ');
  }
  return { ...message, to: [...recipients], cc: [], bcc: [], headers };
}

// Addresses are parsed by a real RFC 5322 parser, never by a regular expression.
import emailAddresses from 'email-addresses';

export interface Mailbox {
  name: string | null;
  address: string;
}

/** Parses one `addr` or `Name <addr>` mailbox; null when it is not one. */
export function parseMailbox(input: string): Mailbox | null {
  if (/[\r\n]/.test(input)) return null;
  const parsed = emailAddresses.parseOneAddress({ input, rfc6532: true, rejectTLD: false });
  if (parsed === null || parsed.type !== 'mailbox') return null;
  // A domain needs a dot or brackets to be routable outside a test network; "bob@" fails above.
  if (parsed.domain.length === 0 || parsed.local.length === 0) return null;
  return { name: parsed.name, address: parsed.address };
}

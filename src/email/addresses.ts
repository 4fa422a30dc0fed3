// Addresses are parsed by a real RFC 5322 parser, never by a regular expression.
import emailAddresses from 'email-addresses';

export interface Mailbox {
  name: string | null;
  address: string;
}

// The forms nearly every address takes, in RFC 5322's own grammar: a dot-atom local part and
// domain (`atext` runs joined by single dots), alone or after a display name of plain atoms. A
// match is a valid mailbox by definition; anything else (quoted strings, comments, encoded words,
// UTF-8, domain literals, stray spaces) goes to the full parser below.
const atext = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const dotAtom = `${atext}(?:\\.${atext})*`;
const plainAddress = new RegExp(`^${dotAtom}@${dotAtom}$`);
const namedAddress = new RegExp(`^(${atext}(?: ${atext})*) <(${dotAtom}@${dotAtom})>$`);

/** Parses one `addr` or `Name <addr>` mailbox; null when it is not one. */
export function parseMailbox(input: string): Mailbox | null {
  if (plainAddress.test(input)) return { name: null, address: input };
  const named = namedAddress.exec(input);
  if (named !== null) return { name: named[1]!, address: named[2]! };
  if (/[\r\n]/.test(input)) return null;
  const parsed = emailAddresses.parseOneAddress({ input, rfc6532: true, rejectTLD: false });
  if (parsed === null || parsed.type !== 'mailbox') return null;
  // A domain needs a dot or brackets to be routable outside a test network; "bob@" fails above.
  if (parsed.domain.length === 0 || parsed.local.length === 0) return null;
  return { name: parsed.name, address: parsed.address };
}

// LDH labels of 1-63 characters, at most 253 in all (RFC 1035 §2.3.4, RFC 5890 A-labels).
const domainLabel = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** A DNS host name such as `mail.example.com`: for Message-ID right-hand sides and DKIM domains. */
export function isDomainName(input: string): boolean {
  return input.length <= 253 && input.split('.').every((label) => domainLabel.test(label));
}

/** The bare address of a validated mailbox, for envelopes and APIs that take no display name. */
export function bareAddress(input: string): string {
  return parseMailbox(input)?.address ?? input.trim();
}

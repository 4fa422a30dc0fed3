// The fast path for common address forms must agree exactly with the full RFC 5322 parser:
// every input is parsed both ways, and parseMailbox must answer what the full parser answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import emailAddresses from 'email-addresses';
import { parseMailbox } from '../../src/email/addresses.ts';

function fullParser(input: string): { name: string | null; address: string } | null {
  if (/[\r\n]/.test(input)) return null;
  const parsed = emailAddresses.parseOneAddress({ input, rfc6532: true, rejectTLD: false });
  if (parsed === null || parsed.type !== 'mailbox' || parsed.domain.length === 0 || parsed.local.length === 0) return null;
  return { name: parsed.name, address: parsed.address };
}

const inputs = [
  'bob@example.com', 'Bob@Example.COM', 'first.last@sub.example.co.uk', "o'brien+tag@example.com", 'a!#$%&*+/=?^_`{|}~-z@x-y.example',
  'Ann <ann@example.com>', 'Ann Example <ann@example.com>', 'Ann-Marie O\'Neil <a@b.c>', 'bob@localhost', '-dash@-dash-',
  // Not fast-path forms: the full parser decides.
  'a..b@example.com', '.a@example.com', 'a.@example.com', 'a@example..com', 'a@.example.com', 'a@example.com.',
  'Ann  Example <ann@example.com>', ' bob@example.com', 'bob@example.com ', 'Ann<ann@example.com>', '"Ann, Example" <ann@example.com>',
  'ann@[127.0.0.1]', 'ännchen@example.com', 'Ann <ann@example.com> ', 'bob@', '@example.com', 'bob', 'a b@example.com',
  'Ann <ann@example.com', 'Ann ann@example.com>', '=?utf-8?q?Ann?= <ann@example.com>', 'bob(comment)@example.com',
  'Ann Example <ann@example.com>, Bob <bob@example.com>', 'bob@example.com\r\nBcc: x@y.z',
];

test('parseMailbox answers exactly what the full parser answers, fast path or not', () => {
  for (const input of inputs) assert.deepEqual(parseMailbox(input), fullParser(input), JSON.stringify(input));
});

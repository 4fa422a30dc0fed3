// DKIM settings for the adapters that send raw MIME (SMTP, SES), with nodemailer's names in
// snake_case: {"domain_name", "key_selector", "private_key"}. Signing is nodemailer's own.
import { createPrivateKey } from 'node:crypto';
import { isDomainName } from '../email/addresses.ts';
import { SettingsError } from './settings.ts';

export interface DkimSettings {
  domain_name: string;
  key_selector: string;
  /** PEM. A secret: never in a message, a log or a metric. */
  private_key: string;
}

/** nodemailer's option shape, for a transport's `dkim` or the DKIM signer. */
export interface NodemailerDkim {
  domainName: string;
  keySelector: string;
  privateKey: string;
}

const FIELDS = ['domain_name', 'key_selector', 'private_key'];
// RFC 8301 forbids RSA keys under 1024 bits for signing and verifiers reject them.
const MIN_RSA_BITS = 1024;

function text(fields: Record<string, unknown>, field: string): string {
  const value = fields[field];
  if (typeof value !== 'string' || value.trim() === '') throw new SettingsError(`dkim.${field} must be a non-empty string`);
  return value.trim();
}

/**
 * The `dkim` setting of a backend, checked at start-up: nodemailer signs with whatever it is
 * given and, when the key cannot sign, quietly sends the message unsigned — so a bad key must
 * stop the sidecar rather than show up weeks later as failed DMARC. Messages name the field,
 * never the key.
 */
export function parseDkim(raw: Record<string, unknown>): DkimSettings | undefined {
  const dkim = raw.dkim;
  if (dkim === undefined) return undefined;
  if (typeof dkim !== 'object' || dkim === null || Array.isArray(dkim)) {
    throw new SettingsError('dkim must be an object {"domain_name": "...", "key_selector": "...", "private_key": "<PEM>"}');
  }
  const fields = dkim as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!FIELDS.includes(key)) throw new SettingsError(`unknown setting "dkim.${key}" (known: ${FIELDS.map((name) => `dkim.${name}`).join(', ')})`);
  }
  const domainName = text(fields, 'domain_name');
  if (!isDomainName(domainName)) throw new SettingsError(`dkim.domain_name must be a domain name like "example.com" (got "${domainName}")`);
  const keySelector = text(fields, 'key_selector');
  // The selector is one or more DNS labels, queried as <selector>._domainkey.<domain>.
  if (!isDomainName(keySelector)) throw new SettingsError(`dkim.key_selector must be DNS labels like "mail2024" (got "${keySelector}")`);
  const privateKey = fields.private_key;
  if (typeof privateKey !== 'string' || privateKey.trim() === '') throw new SettingsError('dkim.private_key must be a non-empty string');
  let key;
  try {
    key = createPrivateKey(privateKey);
  } catch {
    // OpenSSL's reason is dropped along with the value: neither may echo key material.
    throw new SettingsError('dkim.private_key must be an unencrypted PEM private key (it does not parse)');
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new SettingsError(`dkim.private_key must be an RSA key: nodemailer signs rsa-sha256 only (got ${key.asymmetricKeyType ?? 'an unknown type'})`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new SettingsError(`dkim.private_key must be at least ${MIN_RSA_BITS} bits (got ${bits})`);
  return { domain_name: domainName, key_selector: keySelector, private_key: privateKey };
}

/** `{dkim}` when the backend has the setting, `{}` when not: for spreading into settings. */
export function optionalDkim(raw: Record<string, unknown>): { dkim?: DkimSettings } {
  const dkim = parseDkim(raw);
  return dkim === undefined ? {} : { dkim };
}

export function nodemailerDkim(settings: DkimSettings): NodemailerDkim {
  return { domainName: settings.domain_name, keySelector: settings.key_selector, privateKey: settings.private_key };
}

/** Adds a DKIM-Signature header to raw MIME, for APIs that take the message bytes (SES). */
export async function signMime(mime: Buffer, settings: DkimSettings): Promise<Buffer> {
  const { default: DKIM } = await import('nodemailer/lib/dkim/index.js');
  // No cacheDir: the message is signed in memory and its body is never written to disk.
  const signed = new DKIM(nodemailerDkim(settings)).sign(mime);
  const chunks: Buffer[] = [];
  for await (const chunk of signed) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// Amazon SNS's HTTP(S) delivery, the envelope SES events arrive in: the message signature
// (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html) over the
// documented string to sign, checked with the certificate SNS names in SigningCertURL, and the
// SubscribeURL a subscription is confirmed with. Both URLs must be https on an SNS host.
import { X509Certificate, verify as verifySignature, type KeyObject } from 'node:crypto';
import { isRecord } from './verify.ts';

export const snsMessageTypes = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const;

export interface SnsMessage {
  Type: (typeof snsMessageTypes)[number];
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
}

/** The SNS envelope, or null when the body is not one (the signature check then fails). */
export function snsMessage(body: unknown): SnsMessage | null {
  if (!isRecord(body) || !snsMessageTypes.includes(body.Type as SnsMessage['Type'])) return null;
  const required = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'];
  if (body.Type !== 'Notification') required.push('SubscribeURL', 'Token');
  for (const field of required) if (typeof body[field] !== 'string') return null;
  if (body.Subject !== undefined && typeof body.Subject !== 'string') return null;
  return body as unknown as SnsMessage;
}

/** The documented string to sign: "Name\nvalue\n" for each signed field, in this order. */
export function stringToSign(message: SnsMessage): string {
  const fields = message.Type === 'Notification'
    ? ['Message', 'MessageId', ...(message.Subject === undefined ? [] : ['Subject']), 'Timestamp', 'TopicArn', 'Type']
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return fields.map((field) => `${field}\n${(message as unknown as Record<string, string>)[field]}\n`).join('');
}

/** sns.<region>.amazonaws.com, or .amazonaws.com.cn in the China regions. */
const snsHost = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** An https URL on an SNS host (default port, no credentials): the only place certificates and confirmations come from. */
export function isSnsUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && snsHost.test(url.hostname) && url.port === '' && url.username === '' && url.password === '';
}

/** Fetches a certificate's PEM text; replaceable so the cache can be tested without the network. */
export type FetchText = (url: string) => Promise<string>;

const fetchTimeoutMs = 10_000;
const maxCertificateBytes = 64 * 1024;

export const fetchText: FetchText = async (url) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(fetchTimeoutMs), redirect: 'error' });
  if (!response.ok) throw new Error(`GET ${url} answered HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > maxCertificateBytes) throw new Error(`GET ${url} answered more than ${maxCertificateBytes} bytes`);
  return text;
};

/**
 * The signing certificates by URL (SNS, and Scaleway's SNS-compatible service). They sign with a
 * few long-lived certificates, so a small cache serves every message; a failed fetch is
 * forgotten so the next message retries; the oldest entry goes when the cache is full.
 */
export class CertificateCache {
  readonly #certificates = new Map<string, Promise<X509Certificate>>();
  readonly #fetch: FetchText;
  readonly #maxEntries: number;

  constructor(fetch: FetchText = fetchText, maxEntries = 32) {
    this.#fetch = fetch;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#certificates.size;
  }

  certificate(url: string): Promise<X509Certificate> {
    const cached = this.#certificates.get(url);
    if (cached !== undefined) return cached;
    if (this.#certificates.size >= this.#maxEntries) this.#certificates.delete(this.#certificates.keys().next().value!);
    const loading = this.#fetch(url).then((pem) => new X509Certificate(pem));
    loading.catch(() => {
      if (this.#certificates.get(url) === loading) this.#certificates.delete(url);
    });
    this.#certificates.set(url, loading);
    return loading;
  }

  /** The certificate's public key: what an SNS signature is checked with. */
  async key(url: string): Promise<KeyObject> {
    return (await this.certificate(url)).publicKey;
  }
}

/** True when `key` made the message's signature (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA). */
export function signatureMatches(message: SnsMessage, key: KeyObject): boolean {
  const algorithm = message.SignatureVersion === '1' ? 'sha1' : message.SignatureVersion === '2' ? 'sha256' : null;
  if (algorithm === null) return false;
  return verifySignature(algorithm, Buffer.from(stringToSign(message), 'utf8'), key, Buffer.from(message.Signature, 'base64'));
}

/**
 * Confirms a subscription: a GET of its SubscribeURL, as the SNS documentation says. `allowed`
 * says which hosts may serve it (SNS's; Scaleway's for its SNS-compatible service).
 */
export async function confirmSubscription(subscribeUrl: string, allowed: (url: string) => boolean = isSnsUrl, service = 'SNS'): Promise<void> {
  if (!allowed(subscribeUrl)) throw new Error(`SubscribeURL is not an https URL on a ${service} host`);
  const response = await fetch(subscribeUrl, { signal: AbortSignal.timeout(fetchTimeoutMs), redirect: 'error' });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`confirming the ${service} subscription answered HTTP ${response.status}`);
}

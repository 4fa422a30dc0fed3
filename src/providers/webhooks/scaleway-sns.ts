// The signature check of Scaleway Topics and Events' HTTP deliveries
// (https://www.scaleway.com/en/docs/topics-and-events/reference-content/veriying-webhooks/): an
// SNS-compatible envelope signed with the certificate at SigningCertURL, which must itself be
// issued by Scaleway's CA (the region's sns-trust-chain.pem, given in the settings). The string
// to sign is SNS's (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).
import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { isRecord } from './verify.ts';

/** Fetches a certificate's PEM text; a parameter so tests serve their own. */
export type FetchPem = (url: string) => Promise<string>;

const maxPemBytes = 64 * 1024;

export const fetchPem: FetchPem = async (url) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
  if (!response.ok) throw new Error(`GET ${url} answered HTTP ${response.status}`);
  const pem = await response.text();
  if (pem.length > maxPemBytes) throw new Error(`GET ${url} answered more than ${maxPemBytes} bytes`);
  return pem;
};

/** An https URL on a Scaleway host (no credentials, default port): where certificates and confirmations come from. */
export function isScalewayUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && /(^|\.)(scaleway\.com|scw\.cloud)$/.test(url.hostname) && url.port === '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** The CA certificates of a PEM bundle; throws when there is none. */
export function trustChain(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no certificate');
  return blocks.map((block) => new X509Certificate(block));
}

/** SNS's string to sign: "Name\nvalue\n" for each signed field present, in this order. */
function stringToSign(envelope: Record<string, unknown>): string | null {
  const fields = envelope.Type === 'Notification'
    ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  let text = '';
  for (const field of fields) {
    const value = envelope[field];
    if (value === undefined && field === 'Subject') continue;
    if (typeof value !== 'string') return null;
    text += `${field}\n${value}\n`;
  }
  return text;
}

/** A certificate issued (and signed) by one of the CAs, and valid now. */
function trusted(certificate: X509Certificate, cas: readonly X509Certificate[], now: Date): boolean {
  if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) return false;
  return cas.some((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey));
}

/**
 * Checks envelopes against one trust chain. Signing certificates are cached by URL (Scaleway
 * rotates them yearly and names each by a unique URL); a failed fetch is not cached.
 */
export class SnsVerifier {
  readonly #cas: readonly X509Certificate[];
  readonly #fetch: FetchPem;
  readonly #certificates = new Map<string, Promise<X509Certificate>>();

  constructor(cas: readonly X509Certificate[], fetch: FetchPem = fetchPem) {
    this.#cas = cas;
    this.#fetch = fetch;
  }

  async #certificate(url: string): Promise<X509Certificate> {
    const cached = this.#certificates.get(url);
    if (cached !== undefined) return cached;
    if (this.#certificates.size >= 16) this.#certificates.clear();
    const loading = this.#fetch(url).then((pem) => new X509Certificate(pem));
    this.#certificates.set(url, loading);
    loading.catch(() => this.#certificates.delete(url));
    return loading;
  }

  /** True when the envelope is signed by a certificate of Scaleway's CA. Never throws. */
  async verify(envelope: unknown, now = new Date()): Promise<boolean> {
    try {
      if (!isRecord(envelope) || typeof envelope.SigningCertURL !== 'string' || typeof envelope.Signature !== 'string') return false;
      if (!isScalewayUrl(envelope.SigningCertURL)) return false;
      const algorithm = envelope.SignatureVersion === '1' ? 'sha1' : envelope.SignatureVersion === '2' ? 'sha256' : null;
      const signed = stringToSign(envelope);
      if (algorithm === null || signed === null) return false;
      const certificate = await this.#certificate(envelope.SigningCertURL);
      if (!trusted(certificate, this.#cas, now)) return false;
      return verifySignature(algorithm, Buffer.from(signed, 'utf8'), certificate.publicKey, Buffer.from(envelope.Signature, 'base64'));
    } catch {
      return false;
    }
  }
}

// The signature check of Scaleway Topics and Events' HTTP deliveries
// (https://www.scaleway.com/en/docs/topics-and-events/reference-content/veriying-webhooks/): an
// SNS-compatible envelope, checked as SNS's (./sns.ts: the envelope, the string to sign, the
// certificate cache), except that the signing certificate at SigningCertURL must be on a
// Scaleway host and issued by Scaleway's CA (the region's sns-trust-chain.pem, in the settings).
import { X509Certificate } from 'node:crypto';
import { CertificateCache, fetchText, signatureMatches, snsMessage, type FetchText } from './sns.ts';

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

/** A certificate issued (and signed) by one of the CAs, and valid now. */
function trusted(certificate: X509Certificate, cas: readonly X509Certificate[], now: Date): boolean {
  if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) return false;
  return cas.some((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey));
}

/**
 * Checks envelopes against one trust chain. Signing certificates are cached by URL (Scaleway
 * rotates them yearly and names each by a unique URL).
 */
export class SnsVerifier {
  readonly #cas: readonly X509Certificate[];
  readonly #certificates: CertificateCache;

  constructor(cas: readonly X509Certificate[], fetch: FetchText = fetchText) {
    this.#cas = cas;
    this.#certificates = new CertificateCache(fetch, 16);
  }

  /** True when the envelope is signed by a certificate of Scaleway's CA. Never throws. */
  async verify(envelope: unknown, now = new Date()): Promise<boolean> {
    try {
      const message = snsMessage(envelope);
      if (message === null || !isScalewayUrl(message.SigningCertURL)) return false;
      if (message.SignatureVersion !== '1' && message.SignatureVersion !== '2') return false;
      const certificate = await this.#certificates.certificate(message.SigningCertURL);
      return trusted(certificate, this.#cas, now) && signatureMatches(message, certificate.publicKey);
    } catch {
      return false;
    }
  }
}

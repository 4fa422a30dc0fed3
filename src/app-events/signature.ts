// The Post-Office-Signature header: `t=<unix seconds>, v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
// The timestamp inside the signed text lets the application refuse a replayed request; the
// clients' verifiers (clients/node, clients/python) check it the same way.
import { createHmac } from 'node:crypto';

export function signatureHeader(secret: string, body: string, unixSeconds: number = Math.floor(Date.now() / 1000)): string {
  const digest = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds}, v1=${digest}`;
}

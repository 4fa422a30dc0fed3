// Invariant 8: secrets never reach a log, an error body or a metric. Adapters quote the
// provider's own error text in outcomes, and a provider may echo what it was sent; this
// wrapper scrubs every configured secret out of any failure before it leaves the adapter.
// createProvider (./kinds.ts) applies it to every adapter it creates, with the kind's `secrets`.
import { adapterError } from './outcome-codes.ts';
import type { Provider, SendOutcome } from './provider.ts';

const REDACTED = '[redacted]';

export function keepingSecrets(secrets: ReadonlyArray<string | undefined>, provider: Provider): Provider {
  // Very short values would redact ordinary words; real keys are long.
  const hidden = secrets.filter((secret): secret is string => secret !== undefined && secret.length >= 6);
  const scrub = (text: string): string => hidden.reduce((result, secret) => result.split(secret).join(REDACTED), text);
  const clean = (result: SendOutcome): SendOutcome => (result.outcome === 'ok' ? result : { ...result, message: scrub(result.message) });
  const wrapped: Provider = {
    async send(message, context): Promise<SendOutcome> {
      let result: SendOutcome;
      try {
        result = await provider.send(message, context);
      } catch (err) {
        result = adapterError(err);
      }
      return clean(result);
    },
  };
  const { sendBatch } = provider;
  if (sendBatch !== undefined) {
    wrapped.sendBatch = async (messages, context) => {
      let results: SendOutcome[];
      try {
        results = await sendBatch.call(provider, messages, context);
      } catch (err) {
        results = messages.map(() => adapterError(err));
      }
      return results.map(clean);
    };
  }
  if (provider.close !== undefined) wrapped.close = provider.close.bind(provider);
  return wrapped;
}

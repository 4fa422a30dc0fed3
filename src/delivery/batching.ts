// Which waiting emails travel together in one request to a provider's batch endpoint (for
// backends with "batch": true). A batch is made only of emails already claimed and waiting —
// it never waits for more to arrive — and an email that cannot go in one is sent on its own.
import type { EmailMessage } from '../email/message.ts';
import type { BatchEndpoint } from '../providers/provider.ts';
import { batchEndpoint, type BackendSettings } from '../providers/kinds.ts';
import type { ClaimedEmail } from '../store/lease-store.ts';

// Field names, addresses and headers around the bodies and attachments of one message's JSON.
const MESSAGE_OVERHEAD = 2000;

/** About the size of a message in a provider's JSON: what makes up most of it, base64 included. */
function approximateBytes(message: EmailMessage): number {
  const bodies = (message.text?.length ?? 0) + (message.html?.length ?? 0) + message.subject.length;
  return MESSAGE_OVERHEAD + bodies + message.attachments.reduce((sum, a) => sum + a.content.length, 0);
}

export class Batching {
  private readonly endpoints = new Map<string, BatchEndpoint>();

  constructor(backends: Readonly<Record<string, BackendSettings>>) {
    for (const [backend, settings] of Object.entries(backends)) {
      const endpoint = batchEndpoint(settings);
      if (endpoint !== undefined) this.endpoints.set(backend, endpoint);
    }
  }

  /**
   * `first` and the waiting emails that can go with it — same backend (the one they go through,
   * `via`), within the endpoint's count and size, attachments only where it takes them — taken out
   * of `waiting` (whose order is otherwise kept). Just [first] when its backend does not batch or
   * nothing can join it.
   */
  take(first: ClaimedEmail, waiting: ClaimedEmail[]): ClaimedEmail[] {
    const endpoint = this.endpoints.get(first.via);
    const fits = (email: ClaimedEmail) => endpoint !== undefined && (endpoint.attachments || email.message.attachments.length === 0);
    if (endpoint === undefined || !fits(first)) return [first];
    const batch = [first];
    let bytes = approximateBytes(first.message);
    const rest: ClaimedEmail[] = [];
    for (const email of waiting) {
      const size = email.via === first.via && fits(email) ? approximateBytes(email.message) : Number.POSITIVE_INFINITY;
      if (batch.length < endpoint.maxMessages && bytes + size <= endpoint.maxBytes) {
        batch.push(email);
        bytes += size;
      } else {
        rest.push(email);
      }
    }
    if (batch.length > 1) waiting.splice(0, waiting.length, ...rest);
    return batch;
  }
}

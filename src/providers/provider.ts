// The contract every provider adapter keeps. Adapters run inside a worker thread and send
// through that thread's one undici Agent; they classify every failure once, here at the edge.
import type { Dispatcher } from 'undici';
import type { EmailMessage } from '../email/message.ts';
import type { PermanentCode, RetryableCode } from './outcome-codes.ts';

/** What a send produced; crosses the thread boundary, so plain data only. Codes: ./outcome-codes.ts. */
export type SendOutcome =
  /** `subject`: the subject rendered in the worker (render_on_delivery), so the record shows what was sent. */
  | { outcome: 'ok'; providerMessageId: string | null; subject?: string }
  | { outcome: 'retryable'; code: RetryableCode; message: string; retryAfterSeconds?: number }
  | { outcome: 'permanent'; code: PermanentCode; message: string };

export interface SendContext {
  /** The worker thread's own connection pool. Never create another. */
  readonly agent: Dispatcher;
  /** Headers every HTTP request carries (User-Agent). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Right-hand side of Message-IDs the adapter generates (POST_OFFICE_MESSAGE_ID_DOMAIN). */
  readonly messageIdDomain?: string;
}

export interface Provider {
  send(message: EmailMessage, context: SendContext): Promise<SendOutcome>;
  /**
   * Sends several messages through the provider's batch endpoint (kinds with `batch` only):
   * one outcome per message, in order. A failure of the whole request is every message's outcome.
   */
  sendBatch?(messages: readonly EmailMessage[], context: SendContext): Promise<SendOutcome[]>;
  /**
   * Releases what the adapter holds beyond the worker's Agent (SMTP: QUIT on idle pooled
   * connections). Called once when the worker thread closes; HTTP adapters have nothing to close.
   */
  close?(): Promise<void>;
}

/** What one request to a provider's batch endpoint may carry. */
export interface BatchEndpoint {
  maxMessages: number;
  /** The request body's limit; the dispatcher keeps a batch's messages under it. */
  maxBytes: number;
  /** False where the batch endpoint takes no attachments: such emails are sent one by one. */
  attachments: boolean;
}

/**
 * One provider kind: validates its settings at start-up, then builds adapters in workers. The
 * kinds table (./kinds.ts) wraps every adapter it creates so that no configured secret and no
 * thrown error leaves it, and labels its connections with the origin of `base_url`.
 */
export interface ProviderKind<S extends { base_url?: string }> {
  /** Checks raw settings from POST_OFFICE_BACKENDS; throws a message naming the field. */
  parse(raw: Record<string, unknown>, defaults: { outboxDir: string }): S;
  /** Every secret the settings hold or the adapter derives from them; scrubbed from every failure. */
  secrets(settings: S): ReadonlyArray<string | undefined>;
  /** Builds the bare adapter: it needs neither to scrub its secrets nor to catch its own throws. */
  create(settings: S): Provider;
  /** The batch endpoint, for kinds that have one; used only when a backend sets `"batch": true`. */
  readonly batch?: BatchEndpoint;
}

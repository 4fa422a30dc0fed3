// Postmark's /email endpoint: https://postmarkapp.com/developer/api/email-api
// and /email/batch: https://postmarkapp.com/developer/user-guide/send-email-with-api/batch-emails
import type { EmailMessage } from '../email/message.ts';
import { classified, exchange, isReply, isSuccess, malformed, parseJson, postJson, type ErrorClass, type HttpReply } from './http.ts';
import type { ProviderKind, SendContext, SendOutcome } from './provider.ts';
import { baseUrl, onlyFields, optionalString, requiredString } from './settings.ts';

export interface PostmarkSettings {
  provider: 'postmark';
  server_token: string;
  message_stream: string;
  base_url: string;
}

// Postmark answers 422 for most refusals and says why in ErrorCode
// (https://postmarkapp.com/developer/api/overview#error-codes); the rest keep the status default.
const errorCodes: Record<number, ErrorClass> = {
  10: { outcome: 'permanent', code: 'AUTH_FAILED' },
  100: { outcome: 'retryable', code: 'PROVIDER_UNAVAILABLE' }, // maintenance
  300: { outcome: 'permanent', code: 'REJECTED' }, // invalid email request
  400: { outcome: 'permanent', code: 'SENDER_REJECTED' }, // sender signature not found
  401: { outcome: 'permanent', code: 'SENDER_REJECTED' }, // sender signature not confirmed
  405: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' }, // not allowed to send (out of credits)
  406: { outcome: 'permanent', code: 'RECIPIENT_REJECTED' }, // inactive recipient
  412: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' }, // account pending approval
  413: { outcome: 'permanent', code: 'ACCOUNT_DISABLED' }, // account may not send
  429: { outcome: 'retryable', code: 'RATE_LIMITED' },
};

function payload(message: EmailMessage, stream: string): Record<string, unknown> {
  const list = (addresses: string[]) => (addresses.length > 0 ? addresses.join(', ') : undefined);
  return {
    From: message.from,
    To: list(message.to),
    Cc: list(message.cc),
    Bcc: list(message.bcc),
    ReplyTo: list(message.reply_to),
    Subject: message.subject,
    TextBody: message.text,
    HtmlBody: message.html,
    MessageStream: stream,
    // Postmark takes one tag; the rest stay in the queue's own record.
    Tag: message.tags[0],
    Metadata: Object.keys(message.metadata).length > 0 ? message.metadata : undefined,
    Headers: Object.entries(message.headers).map(([Name, Value]) => ({ Name, Value })),
    Attachments: message.attachments.map((a) => ({
      Name: a.filename,
      Content: a.content,
      ContentType: a.content_type ?? 'application/octet-stream',
      ContentID: a.content_id === undefined ? undefined : `cid:${a.content_id}`,
    })),
  };
}

// Up to 500 messages and 50 MB of JSON per batch request.
const BATCH_MESSAGES = 500;
const BATCH_BYTES = 50_000_000;

/** A refusal's ErrorCode and text, as the log shows it. */
function refusal(json: Record<string, unknown>): { errorCode: number | undefined; detail: string } {
  return {
    errorCode: typeof json.ErrorCode === 'number' ? json.ErrorCode : undefined,
    detail: `ErrorCode ${String(json.ErrorCode)}: ${String(json.Message)}`,
  };
}

/** The outcome of a whole request that failed: a single send's, or every message of a batch's. */
function failure(reply: HttpReply): SendOutcome {
  const json = parseJson(reply.body);
  if (json === null || Array.isArray(json)) return classified(reply, undefined, undefined);
  const { errorCode, detail } = refusal(json);
  return classified(reply, detail, errorCode === undefined ? undefined : errorCodes[errorCode]);
}

/**
 * A 200 from /email/batch answers each message in order: {ErrorCode: 0, MessageID} when it was
 * accepted, or its own ErrorCode (an inactive recipient, an unconfirmed sender) when it was not.
 */
function batchOutcomes(reply: HttpReply, count: number): SendOutcome[] {
  let results: unknown;
  try {
    results = JSON.parse(reply.body);
  } catch {
    results = null;
  }
  // Answers that cannot be matched to the messages one for one tell nothing about any of them.
  if (!Array.isArray(results) || results.length !== count) return Array.from({ length: count }, () => malformed(reply));
  return results.map((result: unknown): SendOutcome => {
    if (typeof result !== 'object' || result === null) return malformed(reply);
    const entry = result as Record<string, unknown>;
    if (entry.ErrorCode === 0) return typeof entry.MessageID === 'string' ? { outcome: 'ok', providerMessageId: entry.MessageID } : malformed(reply);
    const { errorCode, detail } = refusal(entry);
    const known = errorCode === undefined ? undefined : errorCodes[errorCode];
    // An ErrorCode this table does not know is a refusal of that message, as a 422 would be.
    const refused: ErrorClass = known ?? { outcome: 'permanent', code: 'REJECTED' };
    return { ...refused, message: `in a batch: ${detail}`.slice(0, 600) };
  });
}

/** Splits serialized messages into requests within Postmark's limits (a lone larger one goes alone). */
function byBytes(serialized: readonly string[]): string[][] {
  const requests: string[][] = [];
  let current: string[] = [];
  let bytes = 2;
  for (const json of serialized) {
    const size = Buffer.byteLength(json) + 1;
    if (current.length > 0 && (bytes + size > BATCH_BYTES || current.length === BATCH_MESSAGES)) {
      requests.push(current);
      current = [];
      bytes = 2;
    }
    current.push(json);
    bytes += size;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

export const postmark: ProviderKind<PostmarkSettings> = {
  batch: { maxMessages: BATCH_MESSAGES, maxBytes: BATCH_BYTES, attachments: true },
  parse(raw) {
    onlyFields(raw, ['server_token', 'message_stream', 'base_url']);
    return {
      provider: 'postmark',
      server_token: requiredString(raw, 'server_token'),
      message_stream: optionalString(raw, 'message_stream') ?? 'outbound',
      base_url: baseUrl(raw, 'https://api.postmarkapp.com'),
    };
  },
  secrets: (settings) => [settings.server_token],
  create(settings) {
    const headers = { 'x-postmark-server-token': settings.server_token };
    const batchHeaders = { ...headers, accept: 'application/json', 'content-type': 'application/json' };
    const sendRequest = async (context: SendContext, serialized: readonly string[]): Promise<SendOutcome[]> => {
      const reply = await exchange(context, `${settings.base_url}/email/batch`, { headers: batchHeaders, body: `[${serialized.join(',')}]` });
      if (!isReply(reply)) return serialized.map(() => reply);
      if (isSuccess(reply)) return batchOutcomes(reply, serialized.length);
      const outcome = failure(reply);
      return serialized.map(() => outcome);
    };
    return {
      async send(message, context) {
        const reply = await postJson(context, `${settings.base_url}/email`, headers, payload(message, settings.message_stream));
        if (!isReply(reply)) return reply;
        const json = parseJson(reply.body);
        if (isSuccess(reply)) {
          if (typeof json?.MessageID !== 'string') return malformed(reply);
          return { outcome: 'ok', providerMessageId: json.MessageID };
        }
        return failure(reply);
      },
      async sendBatch(messages, context) {
        const serialized = messages.map((message) => JSON.stringify(payload(message, settings.message_stream)));
        const outcomes: SendOutcome[] = [];
        // One after another: the task already holds its place among the worker's sends.
        for (const request of byBytes(serialized)) outcomes.push(...(await sendRequest(context, request)));
        return outcomes;
      },
    };
  },
};

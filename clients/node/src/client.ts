// The Post Office API as typed methods: enqueue (one or a batch, each call with its own
// Idempotency-Key), read, list, cancel, requeue, and stored templates. Request and answer shapes
// come from the sidecar's OpenAPI document (types.ts); retries and timeouts are transport.ts's.
import { randomUUID } from 'node:crypto';
import { resolveSettings, type ClientOptions } from './settings.ts';
import { Transport, type Response } from './transport.ts';
import type {
  AcceptedEmail, EmailDetail, EmailPage, EmailRequest, EmailSummary, ListQuery, Preview, PreviewRequest, Template,
  TemplateRequest, TemplateSummary, Suppression, SuppressionPage, SuppressionRequest,
} from './types.ts';

/** What an enqueue answers: the email's id and status; `replayed` when the key had been used before. */
export interface Enqueued extends AcceptedEmail {
  replayed: boolean;
}

export interface EnqueueOptions {
  /** Up to 255 characters; a new random UUID when left out. Reuse it to retry a call of your own. */
  idempotencyKey?: string;
}

function replayed(response: Response): boolean {
  return response.headers.get('idempotent-replayed') === 'true';
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

export class Client {
  readonly url: string;
  readonly #transport: Transport;

  constructor(options: ClientOptions = {}) {
    const settings = resolveSettings(options);
    this.url = settings.url;
    this.#transport = new Transport(settings);
  }

  /** `POST /v1/emails`: stores the email and answers once it is committed. */
  async enqueue(email: EmailRequest, options: EnqueueOptions = {}): Promise<Enqueued> {
    const response = await this.#transport.request({
      method: 'POST', path: '/v1/emails', body: email, idempotencyKey: options.idempotencyKey ?? randomUUID(),
    });
    const accepted = response.body as AcceptedEmail;
    return { id: accepted.id, status: accepted.status, replayed: replayed(response) };
  }

  /** `POST /v1/emails/batch`: 1–1000 emails, all validated before any is stored, answered in order. */
  async enqueueBatch(emails: EmailRequest[], options: EnqueueOptions = {}): Promise<Enqueued[]> {
    const response = await this.#transport.request({
      method: 'POST', path: '/v1/emails/batch', body: { emails }, idempotencyKey: options.idempotencyKey ?? randomUUID(),
    });
    const again = replayed(response);
    return (response.body as { emails: AcceptedEmail[] }).emails.map((accepted) => ({ id: accepted.id, status: accepted.status, replayed: again }));
  }

  /** `GET /v1/emails/:id`: the email, its status, attempts and log. */
  async get(id: string): Promise<EmailDetail> {
    return (await this.#transport.request({ method: 'GET', path: `/v1/emails/${segment(id)}` })).body as EmailDetail;
  }

  /** `GET /v1/emails`: one page, newest first; pass `next_cursor` back as `cursor` for the next. */
  async list(query: ListQuery = {}): Promise<EmailPage> {
    return (await this.#transport.request({ method: 'GET', path: '/v1/emails', query })).body as EmailPage;
  }

  /** Every email (of a status), newest first, following the cursor page by page. */
  async *listAll(query: Omit<ListQuery, 'cursor'> = {}): AsyncGenerator<EmailSummary> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...query, cursor });
      yield* page.emails;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** `POST /v1/emails/:id/cancel`: only a queued email; otherwise `INVALID_STATE`. */
  async cancel(id: string): Promise<AcceptedEmail> {
    return (await this.#transport.request({ method: 'POST', path: `/v1/emails/${segment(id)}/cancel` })).body as AcceptedEmail;
  }

  /** `POST /v1/emails/:id/requeue`: a failed, expired or cancelled email, with a fresh attempt budget. */
  async requeue(id: string): Promise<AcceptedEmail> {
    return (await this.#transport.request({ method: 'POST', path: `/v1/emails/${segment(id)}/requeue` })).body as AcceptedEmail;
  }

  /** `GET /v1/suppressions`: one page of the suppression list, in address order. */
  async listSuppressions(query: { limit?: number; cursor?: string } = {}): Promise<SuppressionPage> {
    return (await this.#transport.request({ method: 'GET', path: '/v1/suppressions', query })).body as SuppressionPage;
  }

  /** `GET /v1/suppressions/:address`: why the address is suppressed; `NOT_FOUND` when it is not. */
  async getSuppression(address: string): Promise<Suppression> {
    return (await this.#transport.request({ method: 'GET', path: `/v1/suppressions/${segment(address)}` })).body as Suppression;
  }

  /** `PUT /v1/suppressions/:address`: stops sending to the address (reason `manual` unless given). */
  async suppress(address: string, request: SuppressionRequest = {}): Promise<Suppression> {
    return (await this.#transport.request({ method: 'PUT', path: `/v1/suppressions/${segment(address)}`, body: request })).body as Suppression;
  }

  /** `DELETE /v1/suppressions/:address`: sends to the address again; `NOT_FOUND` when it was not listed. */
  async unsuppress(address: string): Promise<void> {
    await this.#transport.request({ method: 'DELETE', path: `/v1/suppressions/${segment(address)}` });
  }

  /** `PUT /v1/templates/:name`: creates or replaces the template in one language ('' or none: the default). */
  async putTemplate(name: string, template: TemplateRequest, options: { language?: string } = {}): Promise<Template> {
    const response = await this.#transport.request({
      method: 'PUT', path: `/v1/templates/${segment(name)}`, query: { language: options.language }, body: template,
    });
    return response.body as Template;
  }

  /** `GET /v1/templates/:name`: the template in exactly that language; `NOT_FOUND` if there is none. */
  async getTemplate(name: string, options: { language?: string } = {}): Promise<Template> {
    const response = await this.#transport.request({ method: 'GET', path: `/v1/templates/${segment(name)}`, query: { language: options.language } });
    return response.body as Template;
  }

  /** `DELETE /v1/templates/:name`: one language of it; `NOT_FOUND` if there is none. */
  async deleteTemplate(name: string, options: { language?: string } = {}): Promise<void> {
    await this.#transport.request({ method: 'DELETE', path: `/v1/templates/${segment(name)}`, query: { language: options.language } });
  }

  /** `GET /v1/templates`: every template with its languages. */
  async listTemplates(): Promise<TemplateSummary[]> {
    return ((await this.#transport.request({ method: 'GET', path: '/v1/templates' })).body as { templates: TemplateSummary[] }).templates;
  }

  /** `POST /v1/templates/:name/preview`: rendered as an email would be, with `context` or the stored example. */
  async previewTemplate(name: string, request: PreviewRequest = {}): Promise<Preview> {
    const response = await this.#transport.request({ method: 'POST', path: `/v1/templates/${segment(name)}/preview`, body: request });
    return response.body as Preview;
  }
}

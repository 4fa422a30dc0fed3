// The enqueue use case, outside HTTP so any way in (the API, a CLI, a test) shares it:
//   validate → templates → size → store (group commit, or once per Idempotency-Key) → wake.
// Everything that can refuse an email runs before anything is stored: a request is stored whole
// or not at all, and 202 is answered only after its rows are committed.
import { createHash } from 'node:crypto';
import type { DatabaseHealth } from '../database/health.ts';
import type { EmailStatus, NewEmail } from '../email/message.ts';
import { checkMessageSize, type SizeLimit } from '../email/size.ts';
import { validateEmail, type EmailRequest, type ValidationContext } from '../email/validate.ts';
import { PostOfficeError } from '../errors.ts';
import type { MainMetrics } from '../metrics/main-metrics.ts';
import { maxMessageBytes } from '../providers/limits.ts';
import type { BackendSettings } from '../providers/kinds.ts';
import { GroupCommit } from '../store/group-commit.ts';
import type { QueueStore } from '../store/store.ts';
import type { Renderer } from '../templates/renderer.ts';
import { applyTemplates, type TemplateLookup } from './templates.ts';

export interface EnqueuerOptions {
  backends: Readonly<Record<string, BackendSettings>>;
  defaultFrom: string | undefined;
  maxAttempts: number;
  /** Statements the group commit may run at once (leave connections for delivery and reads). */
  maxConcurrentCommits: number;
}

export interface EnqueuerDeps {
  store: QueueStore;
  health: DatabaseHealth;
  metrics: MainMetrics;
  /** Called after emails are committed, so a local dispatcher can start on them at once. */
  wake: () => void;
  /** Renders templates at enqueue (the worker pool, when this sidecar has one). */
  renderer: Renderer;
}

/** An Idempotency-Key and what identifies the request it was first used with. */
export interface Idempotency {
  key: string;
  /** Where the request went (its route) and its parsed body: the same key with another is refused. */
  route: string;
  body: unknown;
}

export interface Accepted {
  id: string;
  status: EmailStatus;
}

export class Enqueuer {
  private readonly options: EnqueuerOptions;
  private readonly deps: EnqueuerDeps;
  private readonly validation: ValidationContext;
  private readonly sizeLimits: Map<string, SizeLimit>;
  private readonly groupCommit: GroupCommit;
  private readonly templates: TemplateLookup;

  constructor(options: EnqueuerOptions, deps: EnqueuerDeps) {
    this.options = options;
    this.deps = deps;
    this.validation = { defaultFrom: options.defaultFrom, backends: Object.keys(options.backends) };
    this.sizeLimits = new Map(Object.entries(options.backends).map(([backend, settings]) => (
      [backend, { backend, provider: settings.provider, maxBytes: maxMessageBytes(settings) }]
    )));
    this.groupCommit = new GroupCommit((emails) => deps.store.insertEmails(emails, options.maxAttempts), {
      maxConcurrent: options.maxConcurrentCommits,
      maxRows: 2000,
    });
    // Each distinct template of a request is read once.
    this.templates = {
      resolve: async (keys) => {
        deps.health.require();
        return deps.store.templates.resolve(keys);
      },
    };
  }

  /**
   * Stores the emails of one request (one email, or a batch whose fields are named by `prefix`),
   * or throws a 4xx naming the field before anything is stored. `replayed`: the Idempotency-Key
   * was used before with this request, and the emails are the ones it stored then.
   */
  async enqueue(bodies: readonly EmailRequest[], prefix: (index: number) => string, idempotency?: Idempotency): Promise<{ emails: Accepted[]; replayed: boolean }> {
    const emails = await this.prepare(bodies, prefix);
    const { ids, replayed } = await this.store(emails, idempotency);
    if (!replayed) {
      for (const email of emails) this.deps.metrics.enqueued.inc({ backend: email.backend, priority: email.priority });
      this.deps.wake();
    }
    const statuses = replayed ? await this.deps.store.statusesOf(ids) : new Map<string, EmailStatus>();
    return { emails: ids.map((id) => ({ id, status: statuses.get(id) ?? 'queued' })), replayed };
  }

  /** Validates every email, applies their templates, then checks each against its backend's size limit. */
  private async prepare(bodies: readonly EmailRequest[], prefix: (index: number) => string): Promise<NewEmail[]> {
    const items = bodies.map((body, index) => ({ email: validateEmail(body, this.validation, prefix(index)), prefix: prefix(index) }));
    const emails = await applyTemplates(items, this.templates, this.deps.renderer);
    // After rendering, so the bodies count.
    emails.forEach((email, index) => checkMessageSize(email, this.sizeLimits.get(email.backend)!, prefix(index)));
    return emails;
  }

  private async store(emails: NewEmail[], idempotency: Idempotency | undefined): Promise<{ ids: string[]; replayed: boolean }> {
    this.deps.health.require();
    if (idempotency === undefined) {
      await this.groupCommit.add(emails);
      return { ids: emails.map((email) => email.id), replayed: false };
    }
    // Safe to stringify: validateEmail has capped the only free-form field, context, at 64
    // levels (src/email/storable.ts); a 100,000-level body used to overflow the stack here.
    const hash = createHash('sha256').update(`${idempotency.route}\n${JSON.stringify(idempotency.body)}`).digest('hex');
    const result = await this.deps.store.insertEmailsOnce(emails, this.options.maxAttempts, idempotency.key, hash);
    if ('mismatch' in result) {
      throw new PostOfficeError('IDEMPOTENCY_KEY_REUSED', 'idempotency-key: already used with a different request body');
    }
    return { ids: result.ids, replayed: !result.created };
  }
}

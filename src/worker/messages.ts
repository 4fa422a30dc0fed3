// Everything that crosses the thread boundary between the dispatcher and the worker threads.
// Plain typed objects only: class identity does not survive postMessage.
import type { MessagePort } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { EmailMessage } from '../email/message.ts';
import type { BackendSettings } from '../providers/kinds.ts';
import type { TemplateContent } from '../templates/template.ts';

export type { SendOutcome } from '../providers/provider.ts';

/** Handed to every worker thread when it starts. */
export interface WorkerSetup {
  backends: Record<string, BackendSettings>;
  httpConnections: number;
  /** Idle keep-alive connections of the thread's Agent close after this long. */
  httpIdleMs: number;
  sendTimeoutMs: number;
  /** Staging safety: when non-empty, every email is redirected to these addresses. */
  overrideRecipients: string[];
  /** Right-hand side of generated Message-IDs; undefined: the From address's domain. */
  messageIdDomain: string | undefined;
  version: string;
}

/** One email to send: one Piscina task. */
export interface SendTask {
  backend: string;
  message: EmailMessage;
  /** With render_on_delivery (message.template): the stored template, read by the dispatcher. */
  template?: TemplateContent;
}

/**
 * Emails of one backend to send through its batch endpoint: one Piscina task (one task slot,
 * one request or a few), answered with one outcome per email, in order.
 */
export interface SendBatchTask {
  backend: string;
  emails: Array<Omit<SendTask, 'backend'>>;
}

/** A template to render at enqueue or for a preview: one Piscina task, answered with its result. */
export interface RenderTask {
  template: TemplateContent;
  context: Record<string, unknown>;
}

/**
 * A worker → the main thread once, on Piscina's own channel (the pool's 'message' event): the
 * port on which the thread takes control requests and answers them.
 */
export interface ControlPortOffer {
  type: 'control-port';
  threadId: number;
  port: MessagePort;
}

/** One thread's registry, as prom-client's getMetricsAsJSON gives it. */
export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** Main thread → a worker, on its control port. */
export type ControlRequest = { type: 'collect'; requestId: number } | { type: 'close'; requestId: number };

/** A worker → the main thread, on its control port. */
export type ControlReply =
  | { type: 'metrics'; requestId: number; threadId: number; metrics: WorkerMetrics }
  | { type: 'closed'; requestId: number; threadId: number };

// Everything that crosses the thread boundary between the dispatcher and the worker threads.
// Plain typed objects only: class identity does not survive postMessage.
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { EmailMessage } from '../email/message.ts';
import type { BackendSettings } from '../providers/registry.ts';

export type { SendOutcome } from '../providers/provider.ts';

/** Handed to every worker thread when it starts. */
export interface WorkerSetup {
  backends: Record<string, BackendSettings>;
  httpConnections: number;
  sendTimeoutMs: number;
  /** Name of the BroadcastChannel for metric collection and shutdown. */
  controlChannel: string;
  version: string;
}

/** One email to send: one Piscina task. */
export interface SendTask {
  backend: string;
  message: EmailMessage;
}

/** Main thread → every worker, on the control channel. */
export type ControlRequest = { type: 'collect'; requestId: number } | { type: 'close'; requestId: number };

/** A worker → the main thread, on the control channel. */
export type ControlReply =
  | { type: 'metrics'; requestId: number; threadId: number; metrics: MetricObjectWithValues<MetricValue<string>>[] }
  | { type: 'closed'; requestId: number; threadId: number };

// The last step of a render, under a time limit like the Liquid render's: making the text part
// from the HTML and inlining its CSS run on a thread of their own (./finish-thread.ts), one
// request at a time, and a request that takes longer than FINISH_LIMIT_MS ends that thread and
// fails the render; the next request starts a new one. The thread starts on first use and ends
// after a minute without work, so a sidecar that never renders such templates never pays for it.
import { Worker } from 'node:worker_threads';

/** How long making the text part and inlining the CSS of one render may take together. */
export const FINISH_LIMIT_MS = 1000;
const IDLE_MS = 60_000;

export interface FinishRequest {
  id: number;
  html: string;
  textFromHtml: boolean;
  inlineCss: boolean;
}

export type FinishReply = { id: number; ok: true; html: string; text: string | null } | { id: number; ok: false; message: string };
export type Finished = { ok: true; html: string; text: string | null } | { ok: false; message: string };

interface Pending {
  request: FinishRequest;
  resolve: (finished: Finished) => void;
}

// The built thread beside the built module (dist/), the TypeScript one beside the source.
const threadFile = new URL(import.meta.url.endsWith('.ts') ? './finish-thread.ts' : './finish-thread.js', import.meta.url);

let thread: Worker | undefined;
/** Whether `thread` has loaded its modules (requests wait until it has). */
let ready = false;
let current: { pending: Pending; timer: NodeJS.Timeout } | undefined;
let idleTimer: NodeJS.Timeout | undefined;
const queue: Pending[] = [];
let nextId = 1;

function settle(finished: Finished): void {
  const done = current;
  if (done === undefined) return;
  clearTimeout(done.timer);
  current = undefined;
  done.pending.resolve(finished);
  next();
}

/** Ends the thread (timed out, broken or idle); a later request starts a new one. */
function stop(worker: Worker): void {
  if (thread === worker) {
    thread = undefined;
    ready = false;
  }
  worker.removeAllListeners();
  void worker.terminate();
}

function start(): Worker {
  const worker = new Worker(threadFile, {
    // The HTML it works on is at most the Liquid render's 16 MiB; a runaway must not take the pod.
    resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 16 },
  });
  worker.on('message', (reply: FinishReply | 'ready') => {
    if (reply === 'ready') {
      ready = true;
      next();
      return;
    }
    if (current?.pending.request.id !== reply.id) return;
    settle(reply.ok ? { ok: true, html: reply.html, text: reply.text } : { ok: false, message: reply.message });
  });
  const broken = (err: unknown) => {
    stop(worker);
    const message = err instanceof Error ? err.message : String(err);
    settle({ ok: false, message: `making the text part or inlining the CSS failed: ${message}` });
  };
  worker.on('error', broken);
  worker.on('exit', (code) => broken(new Error(`the thread exited (${code})`)));
  return worker;
}

function next(): void {
  if (current !== undefined) return;
  clearTimeout(idleTimer);
  if (queue.length === 0) {
    // An idle thread never keeps the process alive (unref after its listeners: adding one refs it).
    thread?.unref();
    idleTimer = setTimeout(() => thread && stop(thread), IDLE_MS).unref();
    return;
  }
  const worker = (thread ??= start());
  worker.ref();
  if (!ready) return;
  const pending = queue.shift()!;
  const timer = setTimeout(() => {
    stop(worker);
    const steps = [pending.request.textFromHtml && 'making the text part', pending.request.inlineCss && 'inlining the CSS'].filter(Boolean).join(' and ');
    settle({ ok: false, message: `render limit exceeded: ${steps} took longer than ${FINISH_LIMIT_MS} ms (the HTML or its CSS is too large or too complex)` });
  }, FINISH_LIMIT_MS);
  current = { pending, timer };
  worker.postMessage(pending.request);
}

/** The text part made from `html` and/or its CSS inlined, within FINISH_LIMIT_MS; never throws. */
export function finish(html: string, options: { textFromHtml: boolean; inlineCss: boolean }): Promise<Finished> {
  return new Promise((resolve) => {
    queue.push({ request: { id: nextId++, html, ...options }, resolve });
    next();
  });
}

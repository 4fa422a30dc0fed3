// The thread that finishes rendered HTML: the text part made from it (html-to-text) and its
// CSS inlined (juice). Both are synchronous and neither can be interrupted, and both can take
// far longer than the Liquid render before them — html-to-text over a 20,000-row table takes
// seconds, juice with a nested `:has()` over a deep tree minutes — so they run here, where
// ./finish.ts can end the thread when its time is up. Loaded only by ./finish.ts.
import { parentPort } from 'node:worker_threads';
import { compile } from 'html-to-text';
import juice from 'juice';
import type { FinishReply, FinishRequest } from './finish.ts';

const htmlToText = compile({
  wordwrap: 78,
  selectors: [
    // `[cid:logo]` or an image URL is noise in a text part.
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
  ],
});

parentPort!.on('message', (request: FinishRequest) => {
  let reply: FinishReply;
  try {
    // The text is made from the HTML as the template wrote it, before any inlining.
    const text = request.textFromHtml ? htmlToText(request.html) : null;
    reply = { id: request.id, ok: true, html: request.inlineCss ? juice(request.html) : request.html, text };
  } catch (err) {
    reply = { id: request.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(reply);
});
// Loaded: from now on each request's time is its own work, not the loading of the modules.
parentPort!.postMessage('ready');

// Each duty's errors are throttled on their own: one noisy duty cannot hide another's.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { ErrorLog } from '../src/error-log.ts';

test('the same error is logged once per interval; another duty is still logged at once', () => {
  const lines: Array<{ msg: string; err: string }> = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString())); done(); } });
  const log = new ErrorLog(pino(sink), 10_000);
  log.error('claim failed', new Error('connection refused'), 1000);
  log.error('claim failed', new Error('connection refused'), 2000);
  log.error('recording results failed', new Error('timeout'), 2500);
  log.error('claim failed', new Error('still refused'), 11_500);
  assert.deepEqual(lines.map((line) => [line.msg, line.err]), [
    ['claim failed', 'connection refused'],
    ['recording results failed', 'timeout'],
    ['claim failed', 'still refused'],
  ]);
});

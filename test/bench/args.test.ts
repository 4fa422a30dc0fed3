// The benchmark's command line: a bad value stops it with one line naming the option, instead of
// a run that measures something else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BenchArgsError, parseBenchArgs, usage } from '../../bench/args.ts';

function rejects(argv: string[], message: string): void {
  assert.throws(() => parseBenchArgs(argv), (error: unknown) => error instanceof BenchArgsError && error.message === message);
}

test('defaults follow --mode: 10,000 emails from 4 clients in batches, 5,000 from 64 one at a time', () => {
  assert.deepEqual(parseBenchArgs([]), {
    help: false, peers: false, mode: 'batch', provider: 'http', emails: 10_000, batchSize: 500, concurrency: 4, threads: 2, connections: 8, rounds: 1, history: 0, latencyMs: 0,
  });
  const single = parseBenchArgs(['--mode', 'single', '--peers']);
  assert.equal(single.emails, 5_000);
  assert.equal(single.concurrency, 64);
  assert.equal(single.peers, true);
});

test('given values win over the defaults', () => {
  const args = parseBenchArgs(['--emails=20000', '--batch-size', '1000', '--concurrency', '8', '--threads', '4', '--connections', '16', '--provider', 'smtp']);
  assert.deepEqual([args.emails, args.batchSize, args.concurrency, args.threads, args.connections, args.provider], [20_000, 1000, 8, 4, 16, 'smtp']);
});

test('a misspelt mode or provider is refused, not replaced by the default', () => {
  rejects(['--mode', 'singel'], '--mode must be batch or single (got "singel")');
  rejects(['--provider', 'postmark'], '--provider must be one of http, smtp, postmark-batch (got "postmark")');
});

test('every numeric option must be a positive integer within its range', () => {
  for (const option of ['emails', 'batch-size', 'concurrency', 'threads', 'connections', 'rounds']) {
    for (const bad of ['abc', '0', '-3', '1.5', '1e3', '']) rejects([`--${option}=${bad}`], `--${option} must be a positive integer (got "${bad}")`);
  }
  rejects(['--batch-size', '1001'], '--batch-size must be at most 1000 (got "1001")');
  rejects(['--threads', '65'], '--threads must be at most 64 (got "65")');
  rejects(['--rounds', '21'], '--rounds must be at most 20 (got "21")');
  assert.equal(parseBenchArgs(['--history', '0']).history, 0);
  assert.equal(parseBenchArgs(['--history', '200000']).history, 200_000);
  for (const bad of ['abc', '-3', '1.5', '']) rejects([`--history=${bad}`], `--history must be a whole number (got "${bad}")`);
  assert.equal(parseBenchArgs(['--latency-ms', '50']).latencyMs, 50);
  for (const bad of ['abc', '-3', '1.5', '']) rejects([`--latency-ms=${bad}`], `--latency-ms must be a whole number (got "${bad}")`);
  rejects(['--latency-ms', '10001'], '--latency-ms must be at most 10000 (got "10001")');
  rejects(['--latency-ms', '50', '--provider', 'smtp'], '--latency-ms needs the mock provider (--provider http or postmark-batch)');
});

test('unknown options, stray arguments and missing values are named', () => {
  rejects(['--emials', '5'], 'unknown option --emials (see --help)');
  rejects(['5000'], 'unexpected argument 5000 (options start with --; see --help)');
  rejects(['--emails'], '--emails needs a value');
  rejects(['--emails', '--peers'], '--emails needs a value');
  rejects(['--peers=yes'], '--peers takes no value');
});

test('--peers only with the one-request-per-email mock the peers post to, --rounds only with --peers', () => {
  rejects(['--peers', '--provider', 'smtp'], '--peers needs --provider http (got "smtp")');
  rejects(['--rounds', '3'], '--rounds needs --peers');
});

test('--help lists every option with its default', () => {
  assert.equal(parseBenchArgs(['-h']).help, true);
  for (const option of ['--peers', '--mode', '--emails', '--batch-size', '--concurrency', '--threads', '--connections', '--provider', '--rounds', '--history', '--help']) {
    assert.ok(usage.includes(option), `usage mentions ${option}`);
  }
  assert.match(usage, /Default: 500/);
});

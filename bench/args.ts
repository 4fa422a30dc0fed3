// The command line of `npm run bench`: every option, its default, and one clear line for a bad
// value. A typo must stop the run: a benchmark that quietly measures something else (a batch
// run for `--mode singel`, NaN emails for `--emails abc`) prints numbers nobody should quote.
import { parseArgs } from 'node:util';

export type Mode = 'batch' | 'single';
export type Provider = 'http' | 'smtp' | 'postmark-batch';

export interface BenchArgs {
  help: boolean;
  peers: boolean;
  mode: Mode;
  provider: Provider;
  emails: number;
  batchSize: number;
  concurrency: number;
  threads: number;
  connections: number;
  rounds: number;
  /** Sent emails (completed jobs for the peer) written and analyzed before each queued run. */
  history: number;
  /** How long the mock provider takes to answer each request (ms), as a real provider's API does. */
  latencyMs: number;
}

/** A bad command line; the message is the one line printed before exit code 2. */
export class BenchArgsError extends Error {}

const modes: readonly Mode[] = ['batch', 'single'];
const providers: readonly Provider[] = ['http', 'smtp', 'postmark-batch'];

// Defaults that depend on --mode: the peer comparison's two standard runs.
const defaults = {
  batch: { emails: 10_000, concurrency: 4 },
  single: { emails: 5_000, concurrency: 64 },
};

export const usage = `Usage: npm run bench -- [options]

Sends emails through the HTTP API of a real sidecar process to a provider on loopback and prints
emails/s end to end, enqueue latency, provider connections, RSS and CPU.

Options:
  --peers              Also run, against the same mock, the raw limit (undici posting straight
                       to the mock) and a pg-boss 12 + undici peer (bench/peers/pgboss.ts), and
                       print them side by side. Needs --provider http.
  --mode <m>           batch (POST /v1/emails/batch) or single (POST /v1/emails). Default: batch
  --emails <n>         Emails to send. Default: 10000 with --mode batch, 5000 with --mode single
  --batch-size <n>     Emails per batch request, 1 to 1000 (--mode batch). Default: 500
  --concurrency <n>    Concurrent enqueue requests. Default: 4 with --mode batch, 64 with --mode single
  --threads <n>        Sidecar worker threads (POST_OFFICE_THREADS). Default: 2
  --connections <n>    HTTP connections per thread (POST_OFFICE_HTTP_CONNECTIONS); SMTP pool size
                       per thread with --provider smtp. The peers get threads × connections. Default: 8
  --provider <p>       http (mock Postmark, one request per email), postmark-batch (its
                       /email/batch endpoint) or smtp (a local SMTP server). Default: http
  --rounds <n>         With --peers: run the three in turn this many times and print each one's
                       median run by emails/s, with the range. Default: 1
  --history <n>        Before each queued run, write n sent emails (the sidecar, with a log
                       entry each) or completed jobs (the pg-boss peer) and ANALYZE, so the queue
                       looks like a production one: statistics taken over a history, then a
                       burst. Default: 0
  --latency-ms <n>     The mock provider (--provider http or postmark-batch) answers each request
                       after n ms, 0 to 10000, as a real provider's API takes tens to hundreds of
                       milliseconds; then connections, not CPU, set the pace. Default: 0
  -h, --help           Print this and exit.

Uses DATABASE_URL when set, otherwise an embedded PostgreSQL in a temporary folder.`;

function positiveInteger(name: string, raw: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    throw new BenchArgsError(`--${name} must be a ${min === 0 ? 'whole number' : 'positive integer'} (got "${raw}")`);
  }
  if (value > max) throw new BenchArgsError(`--${name} must be at most ${max} (got "${raw}")`);
  return value;
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T {
  const value = raw ?? allowed[0]!;
  if (!allowed.includes(value as T)) {
    const list = allowed.length === 2 ? allowed.join(' or ') : `one of ${allowed.join(', ')}`;
    throw new BenchArgsError(`--${name} must be ${list} (got "${value}")`);
  }
  return value as T;
}

/** node:util's own parse errors name the option in a long sentence; these say it in one line. */
function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        peers: { type: 'boolean' },
        mode: { type: 'string' },
        provider: { type: 'string' },
        emails: { type: 'string' },
        'batch-size': { type: 'string' },
        concurrency: { type: 'string' },
        threads: { type: 'string' },
        connections: { type: 'string' },
        rounds: { type: 'string' },
        history: { type: 'string' },
        'latency-ms': { type: 'string' },
      },
    }).values;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const option = /'(-[^ ']+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new BenchArgsError(`unknown option ${option} (see --help)`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new BenchArgsError(`unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? ''} (options start with --; see --help)`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new BenchArgsError(`${option} ${message.includes('does not take an argument') ? 'takes no value' : 'needs a value'}`);
    }
    throw error;
  }
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const values = parse(argv);
  const mode = oneOf('mode', values.mode, modes);
  const provider = oneOf('provider', values.provider, providers);
  const args: BenchArgs = {
    help: values.help === true,
    peers: values.peers === true,
    mode,
    provider,
    emails: positiveInteger('emails', values.emails, defaults[mode].emails),
    batchSize: positiveInteger('batch-size', values['batch-size'], 500, 1000),
    concurrency: positiveInteger('concurrency', values.concurrency, defaults[mode].concurrency),
    threads: positiveInteger('threads', values.threads, 2, 64),
    connections: positiveInteger('connections', values.connections, 8, 256),
    rounds: positiveInteger('rounds', values.rounds, 1, 20),
    history: positiveInteger('history', values.history, 0, 10_000_000, 0),
    latencyMs: positiveInteger('latency-ms', values['latency-ms'], 0, 10_000, 0),
  };
  // The peers post one Postmark /email request per email; other targets would compare unlike work.
  if (args.peers && provider !== 'http') throw new BenchArgsError(`--peers needs --provider http (got "${provider}")`);
  if (args.latencyMs > 0 && provider === 'smtp') throw new BenchArgsError('--latency-ms needs the mock provider (--provider http or postmark-batch)');
  if (args.rounds > 1 && !args.peers) throw new BenchArgsError('--rounds needs --peers');
  return args;
}

// A pino logger that keeps every line in memory, for tests that check what a sidecar logged.
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export interface RecordingLogger {
  logger: Logger;
  /** Every line logged so far, parsed. */
  lines(): { level: number; msg: string; [key: string]: unknown }[];
  /** Whether a line whose msg contains `text` was logged. */
  logged(text: string): boolean;
}

export function recordingLogger(level = 'info'): RecordingLogger {
  const lines: ReturnType<RecordingLogger['lines']> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return {
    logger: pino({ level }, stream),
    lines: () => lines,
    logged: (text) => lines.some((line) => line.msg.includes(text)),
  };
}

// One JSON logger for the process. Secrets never reach it: nothing logs request headers,
// configuration values or provider settings, and these paths are redacted in case one slips.
import { pino, type Logger } from 'pino';

export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'post-office' },
    redact: ['req.headers.authorization', '*.server_token', '*.api_key', '*.password', 'config.backends', 'config.databaseUrl'],
  });
}

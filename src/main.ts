// The entry point: the only module that binds ports and handles signals.
import './lazy-builtins.ts'; // first: before Fastify loads
import { loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { createLogger } from './logger.ts';
import { startService, type Service } from './service.ts';

/** One line naming the variable and the rule, nothing else: the value may be a secret. */
function configurationError(err: ConfigError): never {
  process.stderr.write(`post-office: configuration error: ${err.message}\n`);
  process.exit(78); // EX_CONFIG
}

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  configurationError(err);
}

const logger = createLogger(config.logLevel);
if (config.databaseUrl === undefined && process.env.KUBERNETES_SERVICE_HOST !== undefined) {
  logger.warn({ dataDir: config.dataDir },
    'DATABASE_URL is unset: queued mail lives in this pod\'s embedded PostgreSQL and is lost with the pod; set DATABASE_URL to a shared PostgreSQL');
}

let service: Service | undefined;
let signalled = false;

async function shutdown(signal: string): Promise<void> {
  if (signalled) {
    logger.warn({ signal }, 'second signal: exiting without draining');
    process.exit(1);
  }
  signalled = true;
  logger.info({ signal }, 'shutting down: draining in-flight sends');
  try {
    await service?.stop();
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  service = await startService(config, logger);
  if (signalled) await service.stop();
} catch (err) {
  // A busy port or a data folder another sidecar owns: found before anything was started.
  if (err instanceof ConfigError) configurationError(err);
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'start-up failed');
  process.exit(1);
}

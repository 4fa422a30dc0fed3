// Fresh fleets behind PgBouncer, one after another: for each, a new empty database, three
// sidecars started at once through a PgBouncer in transaction mode (they migrate it together),
// then a fourth. Prints how long each took to be ready, and checks that every migration was
// applied once and that no advisory lock is left held. Exits 1 if any fleet failed.
//
//   npm run bench:pgbouncer-fleets                      (20 fleets, POST_OFFICE_LISTEN=off)
//   npm run bench:pgbouncer-fleets -- --fleets 5 --listen   (LISTEN left on: detected, one warning each)
//
// Uses DATABASE_URL when set, otherwise an embedded PostgreSQL in a temporary folder.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded.ts';
import { loadMigrations } from '../src/database/migrate.ts';
import { createLogger } from '../src/logger.ts';
import { PGBOUNCER_MISSING, pgbouncerPath, startPgBouncer } from '../test/helpers/pgbouncer.ts';
import { startLoggedSidecar, type LoggedSidecar } from '../test/helpers/pgbouncer-fleet.ts';

const { values } = parseArgs({ options: { fleets: { type: 'string', default: '20' }, listen: { type: 'boolean', default: false } } });
const fleets = Number(values.fleets);
if (!Number.isInteger(fleets) || fleets < 1) {
  console.error('--fleets must be a positive integer');
  process.exit(2);
}
if (pgbouncerPath() === undefined) {
  console.error(PGBOUNCER_MISSING);
  process.exit(2);
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'post-office-fleets-'));
const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(dataDir, createLogger('warn'));
const serverUrl = process.env.DATABASE_URL ?? embedded!.url;
const pgbouncer = await startPgBouncer(serverUrl, { poolSize: 10 });
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
const expected = (await loadMigrations()).map((migration) => migration.id).join(',');
const env = {
  POST_OFFICE_THREADS: '1', POST_OFFICE_RETENTION_DAYS: '0', POST_OFFICE_LISTEN: values.listen ? 'on' : 'off',
  POST_OFFICE_BACKENDS: JSON.stringify({ default: { provider: 'outbox' } }),
};

async function oneFleet(n: number): Promise<boolean> {
  const name = `po_fleet_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const direct = new URL(serverUrl);
  direct.pathname = `/${name}`;
  const url = pgbouncer.url(direct.toString());
  const started: LoggedSidecar[] = [];
  const startedAt = performance.now();
  try {
    const ready = (sidecar: LoggedSidecar) => (started.push(sidecar), Math.round(performance.now() - startedAt));
    const three = await Promise.all([1, 2, 3].map(async () => ready(await startLoggedSidecar(url, env))));
    const fourthAt = performance.now();
    await startLoggedSidecar(url, env).then(ready);
    const fourth = Math.round(performance.now() - fourthAt);
    const db = new pg.Client({ connectionString: direct.toString() });
    await db.connect();
    const applied = (await db.query<{ ids: string }>('SELECT string_agg(id::text, \',\' ORDER BY id) AS ids FROM post_office_migrations')).rows[0]!.ids;
    const locks = (await db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rowCount;
    await db.end();
    const waited = started.filter((sidecar) => sidecar.log.logged('waiting for the migration lock')).length;
    const listenWarnings = started.filter((sidecar) => sidecar.log.logged('POST_OFFICE_LISTEN is on but')).length;
    const ok = applied === expected && locks === 0;
    console.log(`fleet ${String(n).padStart(2)}: three ready in ${three.join(' / ')} ms, the fourth in ${fourth} ms; ` +
      `migrations ${applied === expected ? 'applied once' : `WRONG (${applied})`}; advisory locks held after: ${locks}; ` +
      `sidecars that logged waiting for the migration lock: ${waited}${values.listen ? `; LISTEN warnings: ${listenWarnings}/4` : ''}${ok ? '' : '  FAILED'}`);
    return ok;
  } catch (err) {
    console.log(`fleet ${String(n).padStart(2)}: FAILED: ${(err as Error).message.split('\n')[0]}`);
    return false;
  } finally {
    await Promise.all(started.map((sidecar) => sidecar.service.stop()));
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

let passed = 0;
try {
  for (let n = 1; n <= fleets; n++) if (await oneFleet(n)) passed++;
  console.log(`\n${passed}/${fleets} fresh fleets (3 sidecars at once, then a fourth) started through PgBouncer in transaction mode`);
} finally {
  await admin.end();
  await pgbouncer.stop();
  await embedded?.stop();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(passed === fleets ? 0 : 1);

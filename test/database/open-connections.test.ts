// A pool ended before its database stops: closed() waits until the pool's last connection is
// gone, so stopping the database then cuts nothing (the cleanup CLI once exited 1 after a
// successful run, a connection still closing when it stopped its embedded database).
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import pg from 'pg';
import { followConnections } from '../../src/database/open-connections.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { connect } from '../helpers/sidecar.ts';

test('after pool.end(), closed() resolves once no connection is left for a database shutdown to cut', async () => {
  const databaseUrl = await createTestDatabase({ migrated: false });
  const admin = await connect(databaseUrl);
  for (let round = 0; round < 10; round += 1) {
    const name = `ending-${round}`;
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: name });
    const errors: string[] = [];
    pool.on('error', (err) => errors.push(err.message));
    const connections = followConnections(pool);
    await Promise.all(Array.from({ length: 4 }, () => pool.query('SELECT pg_sleep(0.005)')));
    assert.equal(pool.totalCount, 4);
    await pool.end();
    await connections.closed();
    // What a database shutting down does: every backend still serving the pool is told to go.
    const { rows } = await admin.query<{ cut: number }>(
      'SELECT count(pg_terminate_backend(pid))::int AS cut FROM pg_stat_activity WHERE application_name = $1',
      [name],
    );
    await delay(20);
    assert.deepEqual(errors, [], `round ${round}: ${rows[0]!.cut} connections cut`);
  }
});

test('closed() waits while a connection is open, and only up to its bound; with none ever opened it resolves at once', async () => {
  const databaseUrl = await createTestDatabase({ migrated: false });
  const unused = new pg.Pool({ connectionString: databaseUrl });
  await followConnections(unused).closed(60_000);
  await unused.end();

  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const connections = followConnections(pool);
  const held = await pool.connect();
  await connections.closed(20); // the bound: it resolves although the connection is still open
  let closed = false;
  const closing = connections.closed(60_000).then(() => {
    closed = true;
  });
  await delay(50);
  assert.equal(closed, false, 'still waiting: a connection is open');
  held.release();
  await pool.end();
  await closing;
  assert.equal(closed, true);
});

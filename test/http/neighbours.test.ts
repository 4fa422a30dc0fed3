// Whatever one request holds, it never changes another request's answer. Single enqueues that
// arrive together share one INSERT (group commit); a request holding what PostgreSQL refuses
// used to fail that statement and answer 500 to the valid requests beside it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase } from '../helpers/database.ts';
import { connect, postJson, startSidecar } from '../helpers/sidecar.ts';

const databaseUrl = await createTestDatabase();
const api = await startSidecar(databaseUrl, { POST_OFFICE_DISPATCHER: 'off' });
const db = await connect(databaseUrl);
const emails = `${api.apiUrl}/v1/emails`;

const valid = (round: number, i: number) => ({ from: 'sender@example.com', to: 'bob@example.com', subject: `round ${round} #${i}`, text: 'hi' });
const poisons = [
  { name: 'a NUL in text', patch: { text: 'a\u0000b' }, code: 'INVALID_TEXT', field: 'text' },
  { name: 'a lone surrogate in the subject', patch: { subject: 'a\ud800b' }, code: 'INVALID_HEADER', field: 'subject' },
  { name: 'year 0000 in scheduled_at', patch: { scheduled_at: '0000-01-01T00:00:00Z' }, code: 'INVALID_SCHEDULE', field: 'scheduled_at' },
];

for (const [round, poison] of poisons.entries()) {
  test(`40 valid enqueues sent together with one holding ${poison.name} are all committed`, async () => {
    const bodies: Record<string, unknown>[] = Array.from({ length: 40 }, (_, i) => valid(round, i));
    bodies.splice(20, 0, { ...valid(round, 99), ...poison.patch });

    const answers = await Promise.all(bodies.map((body) => postJson(emails, body)));

    const bad = answers[20]!;
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.equal(bad.body.code, poison.code);
    assert.match(String(bad.body.message), new RegExp(`^${poison.field}: `));
    const good = answers.filter((_, index) => index !== 20);
    assert.deepEqual(good.map((answer) => answer.status), good.map(() => 202), JSON.stringify(good.filter((a) => a.status !== 202).map((a) => a.body)));
    const { rows } = await db.query<{ subject: string }>(
      `SELECT message->>'subject' AS subject FROM emails WHERE id = ANY($1::uuid[]) ORDER BY message->>'subject'`,
      [good.map((answer) => answer.body.id)],
    );
    assert.deepEqual(rows.map((row) => row.subject), Array.from({ length: 40 }, (_, i) => `round ${round} #${i}`).sort());
    const { rows: [all] } = await db.query<{ count: string }>(`SELECT count(*) FROM emails WHERE message->>'subject' LIKE $1`, [`round ${round} #%`]);
    assert.equal(Number(all!.count), 40, 'nothing else was stored');
  });
}

// Provider settings as POST_OFFICE_BACKENDS gives them: regional defaults, required fields,
// and a start-up error that names the alias and the field — never the secret.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBackends } from '../../src/providers/registry.ts';
import { providerOrigin } from '../../src/providers/kinds.ts';

function parse(settings: Record<string, unknown>) {
  const backend = parseBackends(JSON.stringify({ mail: settings }), '/nonexistent').mail;
  assert.ok(backend !== undefined);
  return backend;
}

const defaults: Array<[string, Record<string, unknown>, string]> = [
  ['ses in its region', { provider: 'ses', region: 'eu-west-1', access_key_id: 'AKID', secret_access_key: 'secret' }, 'https://email.eu-west-1.amazonaws.com'],
  ['sendgrid', { provider: 'sendgrid', api_key: 'k' }, 'https://api.sendgrid.com'],
  ['mailgun us', { provider: 'mailgun', api_key: 'k', domain: 'mg.example.com' }, 'https://api.mailgun.net'],
  ['mailgun eu', { provider: 'mailgun', api_key: 'k', domain: 'mg.example.com', region: 'eu' }, 'https://api.eu.mailgun.net'],
  ['postmark', { provider: 'postmark', server_token: 't' }, 'https://api.postmarkapp.com'],
  ['resend', { provider: 'resend', api_key: 'k' }, 'https://api.resend.com'],
  ['brevo', { provider: 'brevo', api_key: 'k' }, 'https://api.brevo.com'],
  ['mailjet', { provider: 'mailjet', api_key: 'k', secret_key: 's' }, 'https://api.mailjet.com'],
  ['mailersend', { provider: 'mailersend', api_token: 't' }, 'https://api.mailersend.com'],
  ['mailtrap sending', { provider: 'mailtrap', api_token: 't' }, 'https://send.api.mailtrap.io'],
  ['mailtrap sandbox', { provider: 'mailtrap', api_token: 't', inbox_id: 7 }, 'https://sandbox.api.mailtrap.io'],
  ['mandrill', { provider: 'mandrill', key: 'k' }, 'https://mandrillapp.com'],
  ['sparkpost us', { provider: 'sparkpost', api_key: 'k' }, 'https://api.sparkpost.com'],
  ['sparkpost eu', { provider: 'sparkpost', api_key: 'k', region: 'eu' }, 'https://api.eu.sparkpost.com'],
  ['scaleway', { provider: 'scaleway', secret_key: 's', project_id: 'p' }, 'https://api.scaleway.com'],
  ['postal', { provider: 'postal', api_key: 'k', base_url: 'https://postal.example.com/' }, 'https://postal.example.com'],
  ['unisender_go', { provider: 'unisender_go', api_key: 'k', base_url: 'https://go2.unisender.ru' }, 'https://go2.unisender.ru'],
];

for (const [name, settings, baseUrl] of defaults) {
  test(`${name}: base_url defaults to ${baseUrl}`, () => {
    const backend = parse(settings);
    assert.equal(backend.base_url, baseUrl);
    assert.equal(providerOrigin(backend), new URL(baseUrl).origin);
  });
}

const errors: Array<[Record<string, unknown>, RegExp]> = [
  [{ provider: 'sparkpost', api_key: 'k', region: 'ap' }, /POST_OFFICE_BACKENDS\.mail: region must be one of "us", "eu" \(got "ap"\)$/],
  [{ provider: 'postal', api_key: 'k' }, /POST_OFFICE_BACKENDS\.mail: base_url is required/],
  [{ provider: 'unisender_go', api_key: 'k' }, /POST_OFFICE_BACKENDS\.mail: base_url is required/],
  [{ provider: 'mailjet', api_key: 'k' }, /secret_key must be a non-empty string/],
  [{ provider: 'scaleway', secret_key: 's', project_id: 'p', region: 'paris' }, /region must be a Scaleway region/],
  [{ provider: 'mailtrap', api_token: 't', inbox_id: 'x' }, /inbox_id must be an integer/],
  [{ provider: 'ses', region: 'eu-west-1', access_key_id: 'AKID' }, /access_key_id and secret_access_key must be given together/],
  [{ provider: 'resend', api_key: 'k', apikey: 'typo' }, /unknown setting "apikey"/],
  [{ provider: 'sendmail' }, /provider must be one of outbox, postmark, mailgun, ses, sendgrid, resend, brevo, mailjet, mailersend, mailtrap, mandrill, sparkpost, postal, scaleway, unisender_go, smtp/],
];

for (const [settings, message] of errors) {
  test(`rejects ${JSON.stringify(settings)}`, () => {
    assert.throws(() => parse(settings), message);
  });
}

test('ses: credentials and region from the standard AWS environment variables', () => {
  const saved = { ...process.env };
  try {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    assert.throws(() => parse({ provider: 'ses' }), /region is required unless AWS_REGION or AWS_DEFAULT_REGION is set/);
    assert.throws(() => parse({ provider: 'ses', region: 'us-east-1' }), /unless AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set/);
    process.env.AWS_ACCESS_KEY_ID = 'AKIDENV';
    process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
    process.env.AWS_DEFAULT_REGION = 'ap-southeast-2';
    const backend = parse({ provider: 'ses' });
    // The environment's keys are read by each worker, not copied into the settings that cross threads.
    assert.deepEqual(
      { region: (backend as { region: string }).region, base_url: backend.base_url, key: (backend as { access_key_id?: string }).access_key_id },
      { region: 'ap-southeast-2', base_url: 'https://email.ap-southeast-2.amazonaws.com', key: undefined },
    );
  } finally {
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_DEFAULT_REGION']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
});

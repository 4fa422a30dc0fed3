// The worker thread's side of render_on_delivery (src/worker/render-on-delivery.ts): a task
// whose message names a template comes out rendered, or as a permanent failure to record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EmailMessage } from '../../src/email/message.ts';
import type { TemplateContent } from '../../src/templates/template.ts';
import { renderOnDelivery } from '../../src/worker/render-on-delivery.ts';

const message: EmailMessage = {
  id: '01970000-0000-7000-8000-000000000000', from: 'shop@example.com', to: ['bob@example.com'], cc: [], bcc: [], reply_to: [],
  subject: '', headers: { 'X-Order': '42' }, attachments: [], tags: ['welcome'], metadata: {},
};
const welcome: TemplateContent = {
  name: 'welcome', language: 'de', version: '1', subject: 'Willkommen, {{ user.name }}', text: null,
  html: '<p>Hallo {{ user.name }}</p>', strictVariables: true, textFromHtml: true, inlineCss: false,
};

test('a message without a template is sent as it is', async () => {
  const plain = { ...message, subject: 'Hi', text: 'hi' };
  assert.equal(await renderOnDelivery({ backend: 'default', message: plain }), plain);
});

test('a message with a template comes out rendered, without the template reference', async () => {
  const task = { backend: 'default', message: { ...message, template: { name: 'welcome', language: 'de', context: { user: { name: '<Bob>' } } } }, template: welcome };
  assert.deepEqual(await renderOnDelivery(task), {
    ...message, subject: 'Willkommen, <Bob>', html: '<p>Hallo &lt;Bob&gt;</p>', text: 'Hallo <Bob>',
  });
});

test('a render failure is a permanent TEMPLATE_RENDER_FAILED naming the template and the variable', async () => {
  const task = { backend: 'default', message: { ...message, template: { name: 'welcome', language: 'de', context: { user: {} } } }, template: welcome };
  assert.deepEqual(await renderOnDelivery(task), {
    outcome: 'permanent', code: 'TEMPLATE_RENDER_FAILED',
    message: "template 'welcome' (de): undefined variable: user.name (in subject, line 1, column 16)",
  });
});

test('a template deleted since the enqueue is a permanent UNKNOWN_TEMPLATE', async () => {
  const task = { backend: 'default', message: { ...message, template: { name: 'gone', language: 'fr', context: {} } } };
  assert.deepEqual(await renderOnDelivery(task), {
    outcome: 'permanent', code: 'UNKNOWN_TEMPLATE', message: "template 'gone' no longer exists in 'fr' or the default language",
  });
});

// Unisender Go: the body's "auth" is the MD5 of the body with the API key in its place; the
// hard_bounced transactional_email_status event as documented at https://godocs.unisender.ru/web-api-ref#callback-format.
import { createHash } from 'node:crypto';
import type { WebhookCase } from '../webhook-case.ts';

const apiKey = 'unisender-hook-key-0123456789';
const placeholder = '__AUTH__';

function signed(messageId: string, recipient: string, key: string): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    auth: placeholder,
    events_by_user: [{
      user_id: 456, project_id: '6432890213745872', project_name: 'Conformance',
      events: [{
        event_name: 'transactional_email_status',
        event_data: {
          job_id: messageId, metadata: {}, email: recipient, status: 'hard_bounced', event_time: '2026-11-05 16:33:54',
          delivery_info: { delivery_status: 'err_user_unknown', destination_response: '550 5.1.1 The email account that you tried to reach does not exist.' },
        },
      }],
    }],
  });
  const auth = createHash('md5').update(body.replace(placeholder, key)).digest('hex');
  return { headers: { 'content-type': 'application/json' }, body: body.replace(placeholder, auth) };
}

export const unisenderGoCase: WebhookCase = {
  label: 'unisender_go',
  webhook: { api_key: apiKey },
  bounce: ({ messageId, recipient }) => signed(messageId, recipient, apiKey),
  forged: ({ messageId, recipient }) => signed(messageId, recipient, 'another-api-key-0123456789'),
};

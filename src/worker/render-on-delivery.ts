// The worker thread's side of render_on_delivery. The dispatcher sends the stored template's
// content along with the task (workers never touch the database); a template that cannot be
// rendered will not render on a retry either, so its failure is permanent and goes in the
// email's log with the reason.
import type { EmailMessage } from '../email/message.ts';
import type { SendOutcome, SendTask } from './messages.ts';
import { inlineRenderer } from '../templates/renderer.ts';
import { templateLabel } from '../templates/template.ts';

/** The message to send — rendered when it names a template — or the permanent failure to record. */
export async function renderOnDelivery(task: SendTask): Promise<EmailMessage | SendOutcome> {
  // Most emails name no template: they go on as they came, not copied.
  if (task.message.template === undefined) return task.message;
  const { template: ref, ...message } = task.message;
  const content = task.template;
  if (content === undefined || content.name !== ref.name) {
    const languages = ref.language === '' ? 'the default language' : `'${ref.language}' or the default language`;
    return { outcome: 'permanent', code: 'UNKNOWN_TEMPLATE', message: `template '${ref.name}' no longer exists in ${languages}` };
  }
  // This thread renders it (the template engines load here on first use).
  const result = await inlineRenderer.render(content, ref.context);
  if (!result.ok) {
    return { outcome: 'permanent', code: 'TEMPLATE_RENDER_FAILED', message: `${templateLabel(content.name, content.language)}: ${result.message}` };
  }
  const { subject, text, html } = result.rendered;
  return { ...message, subject, ...(text === null ? {} : { text }), ...(html === null ? {} : { html }) };
}

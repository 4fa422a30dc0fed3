// Templates at enqueue. The distinct templates of a request — one email or a batch of a
// thousand — are loaded in one query; each email is then rendered now, or, with
// render_on_delivery, only checked to have a template and left for the worker thread.
import type { NewEmail } from '../email/message.ts';
import { unstorableReason } from '../email/storable.ts';
import { PostOfficeError } from '../errors.ts';
import type { Renderer } from '../templates/renderer.ts';
import { templateKey, templateLabel, type TemplateContent, type TemplateKey } from '../templates/template.ts';

export interface TemplateLookup {
  resolve(keys: readonly TemplateKey[]): Promise<Map<string, TemplateContent>>;
}

/** One email of the request: what validateEmail made of it, and its field prefix. */
export interface Enqueued {
  email: NewEmail;
  prefix: string;
}

/**
 * Returns the emails with their templates applied, or throws UNKNOWN_TEMPLATE or
 * TEMPLATE_RENDER_FAILED naming the email's field — before anything is stored.
 */
export async function applyTemplates(items: readonly Enqueued[], lookup: TemplateLookup, renderer: Renderer): Promise<NewEmail[]> {
  const refs = items.flatMap((item) => (item.email.message.template === undefined ? [] : [item.email.message.template]));
  // The common case, an email without a template, costs no query.
  if (refs.length === 0) return items.map((item) => item.email);
  const found = await lookup.resolve(refs);
  // Rendered side by side: with a worker pool, each render may take another core.
  return Promise.all(items.map(async ({ email, prefix }) => {
    const { template: ref, ...message } = email.message;
    if (ref === undefined) return email;
    const content = found.get(templateKey(ref));
    if (content === undefined) {
      const languages = ref.language === '' ? 'the default language' : `'${ref.language}' or the default language`;
      throw new PostOfficeError('UNKNOWN_TEMPLATE', `${prefix}template: no template '${ref.name}' in ${languages}`);
    }
    if (email.renderOnDelivery) return email;
    const result = await renderer.render(content, ref.context);
    if (!result.ok) {
      throw new PostOfficeError('TEMPLATE_RENDER_FAILED', `${prefix}context: ${templateLabel(content.name, content.language)}: ${result.message}`);
    }
    const { subject, text, html } = result.rendered;
    // A filter can make what the context did not hold: url_decode turns "%00" into NUL, and
    // slice can cut an emoji's surrogate pair in half.
    for (const [part, value] of Object.entries({ subject, text, html })) {
      const reason = value === null ? null : unstorableReason(value);
      if (reason !== null) {
        throw new PostOfficeError('TEMPLATE_RENDER_FAILED', `${prefix}context: ${templateLabel(content.name, content.language)}: the rendered ${part} ${reason}`);
      }
    }
    return {
      ...email,
      message: { ...message, subject, ...(text === null ? {} : { text }), ...(html === null ? {} : { html }) },
    };
  }));
}

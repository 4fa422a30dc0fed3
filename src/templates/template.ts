// What a stored template is, as plain data: shared by the store (which reads it), the enqueue
// use case and the worker threads (which render it), without loading the template engines.
export const templateFields = ['subject', 'text', 'html'] as const;
export type TemplateField = (typeof templateFields)[number];

/** What rendering needs of a stored template; crosses into worker threads, so plain data only. */
export interface TemplateContent {
  name: string;
  /** The language of the stored row ('' = default), after any fallback. */
  language: string;
  /** Changes whenever the row changes (derived from updated_at): the parse cache's key. */
  version: string;
  subject: string;
  text: string | null;
  html: string | null;
  strictVariables: boolean;
  textFromHtml: boolean;
  inlineCss: boolean;
}

export interface RenderedTemplate {
  subject: string;
  text: string | null;
  html: string | null;
}

export type Failure = { ok: false; field: TemplateField; message: string };
export type RenderResult = { ok: true; rendered: RenderedTemplate } | Failure;

/** How messages name a template: "template 'welcome' (de)". */
export const templateLabel = (name: string, language: string) => `template '${name}' (${language === '' ? 'default language' : language})`;

/** A template an email asks for: the language it wants, which may fall back to the default. */
export interface TemplateKey {
  name: string;
  language: string;
}

/** One string per key, for maps of looked-up templates. */
export const templateKey = (key: TemplateKey) => `${key.name}\u0000${key.language}`;

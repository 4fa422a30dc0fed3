// Stored templates over HTTP: create or replace (syntax checked before anything is saved), read,
// delete, list, and preview with a given or the stored example context. A Fastify plugin that
// buildApi registers, so the bearer token, the error format and the metrics apply as to emails.
import type { FastifyInstance } from 'fastify';
import { checkContext, checkStorableText } from '../email/storable.ts';
import { PostOfficeError } from '../errors.ts';
import { contentOf, type TemplateStore } from '../store/template-store.ts';
import type { Renderer } from '../templates/renderer.ts';
import { templateLabel } from '../templates/template.ts';
import * as schema from './schemas.ts';

export interface TemplatesApiOptions {
  templates: TemplateStore;
  /** Throws DATABASE_UNAVAILABLE while the database is known to be down. */
  requireDatabase: () => void;
  /** Checks and renders templates (in the worker pool when there is one). */
  renderer: Renderer;
}

interface TemplateBody {
  language?: string;
  description?: string;
  subject: string;
  text?: string;
  html?: string;
  example_context?: Record<string, unknown>;
  strict_variables: boolean;
  text_from_html: boolean;
  inline_css: boolean;
}

type Params = { name: string };
type Query = { language?: string };

function notFound(name: string, language: string, fallback = false): PostOfficeError {
  const where = language === '' ? 'the default language' : `'${language}'${fallback ? ' or the default language' : ''}`;
  return new PostOfficeError('NOT_FOUND', `name: no template '${name}' in ${where}`);
}

/** `language` may come in the query or the body (PUT); given twice, it must say the same. */
function languageOf(query: Query, body?: { language?: string }): string {
  if (query.language !== undefined && body?.language !== undefined && query.language !== body.language) {
    throw new PostOfficeError('VALIDATION_FAILED', `language: the query says '${query.language}' and the body '${body.language}'`);
  }
  return query.language ?? body?.language ?? '';
}

export async function templatesApi(app: FastifyInstance, options: TemplatesApiOptions): Promise<void> {
  const { templates, requireDatabase, renderer } = options;

  app.put<{ Params: Params; Querystring: Query; Body: TemplateBody }>('/v1/templates/:name', {
    schema: {
      summary: 'Create or replace a template in one language (the default when none is given)',
      params: schema.templateParams,
      querystring: schema.templateQuery,
      body: schema.templateBody,
      response: { 200: schema.template, 201: schema.template, ...schema.errors(400, 413, 415) },
    },
  }, async (request, reply) => {
    const { body } = request;
    const language = languageOf(request.query, body);
    if (body.text === undefined && body.html === undefined) {
      throw new PostOfficeError('VALIDATION_FAILED', 'text: a template needs text, html or both');
    }
    for (const field of ['description', 'subject', 'text', 'html'] as const) {
      const value = body[field];
      if (value !== undefined) checkStorableText('INVALID_TEXT', field, value);
    }
    if (body.example_context !== undefined) checkContext('example_context', body.example_context);
    const error = await renderer.checkSyntax({ subject: body.subject, text: body.text, html: body.html });
    if (error !== null) throw new PostOfficeError('INVALID_TEMPLATE', `${error.field}: ${error.message}`);
    requireDatabase();
    const { template, created } = await templates.put({
      name: request.params.name,
      language,
      description: body.description ?? null,
      subject: body.subject,
      text: body.text ?? null,
      html: body.html ?? null,
      example_context: body.example_context ?? null,
      strict_variables: body.strict_variables,
      text_from_html: body.text_from_html,
      inline_css: body.inline_css,
    });
    return reply.code(created ? 201 : 200).send(template);
  });

  app.get<{ Params: Params; Querystring: Query }>('/v1/templates/:name', {
    schema: {
      summary: 'A template in one language (the default when none is given)',
      params: schema.templateParams,
      querystring: schema.templateQuery,
      response: { 200: schema.template, ...schema.errors(400, 404) },
    },
  }, async (request) => {
    requireDatabase();
    const language = languageOf(request.query);
    const found = await templates.get(request.params.name, language);
    if (found === null) throw notFound(request.params.name, language);
    return found;
  });

  app.delete<{ Params: Params; Querystring: Query }>('/v1/templates/:name', {
    schema: {
      summary: 'Delete a template in one language (the default when none is given)',
      params: schema.templateParams,
      querystring: schema.templateQuery,
      response: { 204: { type: 'null', description: 'deleted' }, ...schema.errors(400, 404) },
    },
  }, async (request, reply) => {
    requireDatabase();
    const language = languageOf(request.query);
    if (!(await templates.delete(request.params.name, language))) throw notFound(request.params.name, language);
    return reply.code(204).send();
  });

  app.get('/v1/templates', {
    schema: { summary: 'Every template with its languages', response: { 200: schema.templateList, ...schema.errors() } },
  }, async () => {
    requireDatabase();
    return { templates: await templates.list() };
  });

  app.post<{ Params: Params; Body: { language?: string; context?: Record<string, unknown> } }>('/v1/templates/:name/preview', {
    schema: {
      summary: "Render a template with a given context, or its example_context, as an email using it would be",
      params: schema.templateParams,
      body: schema.previewBody,
      response: { 200: schema.preview, ...schema.errors(400, 404, 413, 415) },
    },
    // `curl -X POST …/preview` with no body previews the default language with the example context.
    preValidation: async (request) => {
      request.body ??= {};
    },
  }, async (request) => {
    // Refused as sending with this context would be.
    if (request.body.context !== undefined) checkContext('context', request.body.context);
    requireDatabase();
    const { name } = request.params;
    const language = request.body.language ?? '';
    // The same fallback as sending: a missing translation previews the default.
    const found = await templates.get(name, language, { fallback: true });
    if (found === null) throw notFound(name, language, true);
    const result = await renderer.render(contentOf(found), request.body.context ?? found.example_context ?? {});
    if (!result.ok) {
      throw new PostOfficeError('TEMPLATE_RENDER_FAILED', `context: ${templateLabel(found.name, found.language)}: ${result.message}`);
    }
    return { language: found.language, ...result.rendered };
  });
}

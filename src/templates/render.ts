// Stored templates rendered with Liquid (liquidjs): Django-like syntax and no arbitrary code, so
// templates can be edited by people who are not developers. This module is pure — no database,
// no Fastify — because the same rendering runs on the main thread (save, preview, enqueue) and in
// the worker threads (render_on_delivery), where it is CPU work the dispatcher should not do.
import { Liquid, type Template } from 'liquidjs';
import { finish } from './finish.ts';

import {
  templateFields,
  type Failure,
  type RenderResult,
  type TemplateContent,
  type TemplateField,
} from './template.ts';

// A template that loops for ever or builds a huge string must fail, not stall a thread that is
// also answering enqueues or holding keep-alive connections. The steps after Liquid (the text
// part from the HTML, CSS inlining) have a limit of their own: ./finish.ts.
const RENDER_LIMIT_MS = 1000;
const MEMORY_LIMIT = 16 * 1024 * 1024;

/** Stands in for the tags that read other templates: there is no file system to read from. */
function noFiles(tag: string): Parameters<Liquid['registerTag']>[1] {
  return {
    parse() {
      throw new Error(`{% ${tag} %} is not supported: a template cannot read other templates or files`);
    },
    render() {
      return '';
    },
  };
}

function engine(escapeOutput: boolean): Liquid {
  const liquid = new Liquid({
    // HTML output is escaped unless the template says `| raw`; text and subject are not HTML.
    ...(escapeOutput ? { outputEscape: 'escape' as const } : {}),
    // A misspelt filter is a save-time error, not a silently dropped value.
    strictFilters: true,
    ownPropertyOnly: true,
    // Strict variables still allow `{% if coupon %}` and `{{ plan | default: "free" }}`: asking
    // whether a variable is there is how a template handles an optional one.
    lenientIf: true,
    // An empty in-memory file system: nothing is ever looked up on disk.
    templates: {},
    renderLimit: RENDER_LIMIT_MS,
    memoryLimit: MEMORY_LIMIT,
  });
  for (const tag of ['include', 'render', 'layout']) liquid.registerTag(tag, noFiles(tag));
  return liquid;
}

const htmlEngine = engine(true);
const textEngine = engine(false);
const engineFor = (field: TemplateField) => (field === 'html' ? htmlEngine : textEngine);

/** liquidjs puts ", line:3, col:12" at the end of its messages; we say where in our own words. */
function describe(err: unknown): { message: string; line: number | undefined; column: number | undefined } {
  const error = err as { message?: unknown; token?: { getPosition?: () => [number, number] } };
  const message = String(error.message ?? err).replace(/, line:\d+, col:\d+$/, '');
  const [line, column] = error.token?.getPosition?.() ?? [undefined, undefined];
  return { message, line, column };
}

const where = (line: number | undefined, column: number | undefined) =>
  line === undefined ? '' : `line ${line}, column ${column ?? 1}`;

/**
 * Checks the syntax of a template's parts before it is saved. Returns the first error as
 * `line 3, column 12: tag {% if x %} not closed`, with the part it is in, or null.
 */
export function checkSyntax(parts: Partial<Record<TemplateField, string>>): { field: TemplateField; message: string } | null {
  for (const field of templateFields) {
    const source = parts[field];
    if (source === undefined) continue;
    try {
      engineFor(field).parse(source);
    } catch (err) {
      const { message, line, column } = describe(err);
      return { field, message: line === undefined ? message : `${where(line, column)}: ${message}` };
    }
  }
  return null;
}

interface Parsed {
  subject: Template[];
  text: Template[] | null;
  html: Template[] | null;
}

// Parsed templates by name, language and version: a stored template changes rarely and is
// rendered for every email. Bounded, least recently used first out; each thread has its own.
const CACHE_SIZE = 500;
const cache = new Map<string, Parsed>();

/** "undefined variable: user.name (in html, line 3, column 12)" */
function failure(field: TemplateField, err: unknown): Failure {
  const { message, line, column } = describe(err);
  return { ok: false, field, message: line === undefined ? message : `${message} (in ${field}, ${where(line, column)})` };
}

function parse(template: TemplateContent): { ok: true; parsed: Parsed } | Failure {
  const key = `${template.name}\u0000${template.language}\u0000${template.version}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return { ok: true, parsed: hit };
  }
  const parsed: Parsed = { subject: [], text: null, html: null };
  for (const field of templateFields) {
    const source = template[field];
    if (source === null) continue;
    try {
      parsed[field] = engineFor(field).parse(source);
    } catch (err) {
      // Saved templates were checked, so this means the engine changed under a stored template.
      return failure(field, err);
    }
  }
  cache.set(key, parsed);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return { ok: true, parsed };
}

/** A subject is one header line: line breaks from the template or the context become spaces. */
const oneLine = (subject: string) => subject.replace(/\s*[\r\n]+\s*/g, ' ').trim();

/**
 * Renders a stored template with a context. Never throws: an undefined variable (with strict
 * variables), a failing filter or a limit comes back as `{ok: false, field, message}`.
 */
export async function renderTemplate(template: TemplateContent, context: Record<string, unknown>): Promise<RenderResult> {
  const parsed = parse(template);
  if (!parsed.ok) return parsed;
  const options = { strictVariables: template.strictVariables };
  const out: Partial<Record<TemplateField, string>> = {};
  for (const field of templateFields) {
    const templates = parsed.parsed[field];
    if (templates === null) continue;
    try {
      out[field] = String(engineFor(field).renderSync(templates, context, options));
    } catch (err) {
      return failure(field, err);
    }
  }
  let html = out.html ?? null;
  let text = out.text ?? null;
  const textFromHtml = text === null && template.textFromHtml;
  if (html !== null && (textFromHtml || template.inlineCss)) {
    const finished = await finish(html, { textFromHtml, inlineCss: template.inlineCss });
    if (!finished.ok) return { ok: false, field: 'html', message: finished.message };
    html = finished.html;
    if (textFromHtml) text = finished.text;
  }
  return { ok: true, rendered: { subject: oneLine(out.subject ?? ''), text, html } };
}

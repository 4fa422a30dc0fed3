// The SQL of stored templates (migration 0004): save, read, delete, list, and the lookup with
// language fallback that enqueue and the dispatcher use, one query for any number of emails.
import type pg from 'pg';
import { templateKey, type TemplateContent, type TemplateKey } from '../templates/template.ts';

/** A stored template as the API shows it. */
export interface TemplateRow {
  name: string;
  /** '' = the default language. */
  language: string;
  description: string | null;
  subject: string;
  text: string | null;
  html: string | null;
  example_context: Record<string, unknown> | null;
  strict_variables: boolean;
  text_from_html: boolean;
  inline_css: boolean;
  created_at: Date;
  updated_at: Date;
}

export type TemplateInput = Omit<TemplateRow, 'created_at' | 'updated_at'>;

export interface TemplateSummary {
  name: string;
  description: string | null;
  languages: string[];
  updated_at: Date;
}

const COLUMNS = `name, language, description, subject, text, html, example_context, strict_variables,
  text_from_html, inline_css, created_at, updated_at`;

// Microseconds since the epoch: updated_at exactly, where a JS Date would round to milliseconds.
const VERSION = `(extract(epoch FROM t.updated_at) * 1000000)::bigint::text AS version`;

type ContentRow = Pick<TemplateRow, 'name' | 'language' | 'subject' | 'text' | 'html' | 'strict_variables' | 'text_from_html' | 'inline_css'>
  & { version: string };

export class TemplateStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** Creates or replaces the template of `name` in `language`. */
  async put(input: TemplateInput): Promise<{ template: TemplateRow; created: boolean }> {
    const result = await this.pool.query<TemplateRow & { created: boolean }>(
      `INSERT INTO templates AS t (name, language, description, subject, text, html, example_context,
         strict_variables, text_from_html, inline_css)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (name, language) DO UPDATE SET
         description = EXCLUDED.description, subject = EXCLUDED.subject, text = EXCLUDED.text, html = EXCLUDED.html,
         example_context = EXCLUDED.example_context, strict_variables = EXCLUDED.strict_variables,
         text_from_html = EXCLUDED.text_from_html, inline_css = EXCLUDED.inline_css,
         -- Strictly later, even within one clock tick: updated_at versions the parse caches.
         updated_at = GREATEST(now(), t.updated_at + interval '1 microsecond')
       RETURNING ${COLUMNS}, (xmax = 0) AS created`,
      [
        input.name, input.language, input.description, input.subject, input.text, input.html,
        input.example_context === null ? null : JSON.stringify(input.example_context),
        input.strict_variables, input.text_from_html, input.inline_css,
      ],
    );
    const { created, ...template } = result.rows[0]!;
    return { template, created };
  }

  /** The template in exactly this language, or with `fallback` the default when it is missing. */
  async get(name: string, language: string, options: { fallback?: boolean } = {}): Promise<(TemplateRow & { version: string }) | null> {
    const result = await this.pool.query<TemplateRow & { version: string }>(
      `SELECT ${COLUMNS}, ${VERSION} FROM templates t
       WHERE name = $1 AND (language = $2 OR ($3 AND language = ''))
       ORDER BY language = $2 DESC LIMIT 1`,
      [name, language, options.fallback === true],
    );
    return result.rows[0] ?? null;
  }

  async delete(name: string, language: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM templates WHERE name = $1 AND language = $2', [name, language]);
    return result.rowCount === 1;
  }

  /** Every template name with its languages; the description is the default language's when there is one. */
  async list(): Promise<TemplateSummary[]> {
    const result = await this.pool.query<TemplateSummary>(
      `SELECT name, array_agg(language ORDER BY language) AS languages,
              (array_agg(description ORDER BY language))[1] AS description, max(updated_at) AS updated_at
       FROM templates GROUP BY name ORDER BY name`,
    );
    return result.rows;
  }

  /**
   * What rendering needs of each distinct requested template, in one query, keyed by
   * templateKey(requested): the requested language, or the default when that translation is
   * missing. A template that does not exist at all is absent from the map.
   */
  async resolve(keys: readonly TemplateKey[]): Promise<Map<string, TemplateContent>> {
    const distinct = [...new Map(keys.map((key) => [templateKey(key), key])).values()];
    if (distinct.length === 0) return new Map();
    const result = await this.pool.query<ContentRow & { requested_name: string; requested_language: string }>(
      `SELECT r.name AS requested_name, r.language AS requested_language, t.name, t.language, ${VERSION},
              t.subject, t.text, t.html, t.strict_variables, t.text_from_html, t.inline_css
       FROM unnest($1::text[], $2::text[]) AS r(name, language)
       CROSS JOIN LATERAL (
         SELECT * FROM templates t WHERE t.name = r.name AND t.language IN (r.language, '')
         ORDER BY t.language = r.language DESC LIMIT 1
       ) t`,
      [distinct.map((key) => key.name), distinct.map((key) => key.language)],
    );
    return new Map(result.rows.map((row) => [templateKey({ name: row.requested_name, language: row.requested_language }), contentOf(row)]));
  }
}

/** A row as rendering needs it. */
export function contentOf(row: ContentRow): TemplateContent {
  return {
    name: row.name, language: row.language, version: row.version, subject: row.subject, text: row.text, html: row.html,
    strictVariables: row.strict_variables, textFromHtml: row.text_from_html, inlineCss: row.inline_css,
  };
}

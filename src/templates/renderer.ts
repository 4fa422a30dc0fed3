// Where templates are rendered. The worker pool renders them off the event loop that serves the
// API (src/worker/pool.ts implements this); a sidecar without worker threads
// (POST_OFFICE_DISPATCHER=off) renders on its own thread. Either way the template engines are
// loaded on first use, so a sidecar that never renders never pays for them.
import type { RenderResult, TemplateContent, TemplateField } from './template.ts';

export type SyntaxProblem = { field: TemplateField; message: string } | null;

export interface Renderer {
  render(template: TemplateContent, context: Record<string, unknown>): Promise<RenderResult>;
  checkSyntax(parts: Partial<Record<TemplateField, string>>): Promise<SyntaxProblem>;
}

export const inlineRenderer: Renderer = {
  async render(template, context) {
    const { renderTemplate } = await import('./render.ts');
    return renderTemplate(template, context);
  },
  async checkSyntax(parts) {
    const { checkSyntax } = await import('./render.ts');
    return checkSyntax(parts);
  },
};

// Rendering stored templates (src/templates/render.ts): HTML escaped and text not, strict
// variables per template, syntax errors with line and column, no file access, the text part
// from HTML, CSS inlining, and the parse cache keyed by the template's version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FINISH_LIMIT_MS } from '../../src/templates/finish.ts';
import { checkSyntax, renderTemplate } from '../../src/templates/render.ts';
import type { RenderedTemplate, TemplateContent } from '../../src/templates/template.ts';

let versions = 0;
function template(fields: Partial<TemplateContent>): TemplateContent {
  return {
    name: 'welcome', language: '', version: String(++versions), subject: 'Hello', text: null, html: null,
    strictVariables: false, textFromHtml: true, inlineCss: false, ...fields,
  };
}

async function rendered(content: TemplateContent, context: Record<string, unknown>): Promise<RenderedTemplate> {
  const result = await renderTemplate(content, context);
  assert.ok(result.ok, `render failed: ${result.ok ? '' : result.message}`);
  return result.rendered;
}

test('HTML output is escaped; text and subject are not', async () => {
  const out = await rendered(
    template({ subject: 'Hi {{ name }}', text: 'Hi {{ name }}', html: '<p>Hi {{ name }}</p>' }),
    { name: '<script>alert("x")</script> & co' },
  );
  assert.equal(out.html, '<p>Hi &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co</p>');
  assert.equal(out.text, 'Hi <script>alert("x")</script> & co');
  assert.equal(out.subject, 'Hi <script>alert("x")</script> & co');
});

test('a template may opt out of escaping one value with | raw', async () => {
  assert.equal((await rendered(template({ html: '{{ block | raw }}' }), { block: '<b>bold</b>' })).html, '<b>bold</b>');
});

test('strict variables: an undefined variable fails the render, naming it and where it is', async () => {
  const result = await renderTemplate(template({ strictVariables: true, text: 'Dear\n  {{ user.name }}' }), { user: {} });
  assert.deepEqual(result, { ok: false, field: 'text', message: 'undefined variable: user.name (in text, line 2, column 6)' });
});

test('without strict variables an undefined variable renders as nothing', async () => {
  assert.equal((await rendered(template({ text: 'Dear {{ user.name }}!' }), {})).text, 'Dear !');
});

test('syntax errors name the part, the line and the column', () => {
  assert.deepEqual(checkSyntax({ subject: 'ok', html: '<html>\n<body>\n  <p>{% if vip %}Welcome\n</body>' }), {
    field: 'html', message: 'line 3, column 6: tag {% if vip %} not closed',
  });
  assert.deepEqual(checkSyntax({ subject: 'Hi {{ name ', text: 'fine' }), { field: 'subject', message: 'line 1, column 4: output "{{ name " not closed' });
  assert.equal(checkSyntax({ subject: 'a', text: '{{ x | upcase }}', html: '{% if a %}b{% endif %}' }), null);
});

test('a misspelt filter is a syntax error, not a silently empty value', () => {
  assert.deepEqual(checkSyntax({ subject: 'Hi', text: 'x\n{{ name | upcaes }}' }), { field: 'text', message: 'line 2, column 1: undefined filter: upcaes' });
});

test('templates cannot include other templates or read files', () => {
  for (const tag of ['include', 'render', 'layout']) {
    const error = checkSyntax({ subject: 'Hi', html: `<p>{% ${tag} "/etc/passwd" %}</p>` });
    assert.equal(error?.field, 'html');
    assert.match(error.message, new RegExp(`^line 1, column 4: \\{% ${tag} %\\} is not supported`));
  }
});

test('the text part is made from the HTML when there is no text template, unless switched off', async () => {
  const html = '<h1>Hi {{ name }}</h1><p>See <a href="https://example.com/a">your account</a>.</p><img src="cid:logo" alt="Logo">';
  const out = await rendered(template({ html }), { name: 'Bob' });
  assert.equal(out.text, 'HI BOB\n\nSee your account [https://example.com/a].');
  assert.equal((await rendered(template({ html, textFromHtml: false }), { name: 'Bob' })).text, null);
  assert.equal((await rendered(template({ html, text: 'Own text for {{ name }}' }), { name: 'Bob' })).text, 'Own text for Bob');
});

test('CSS is inlined when the template asks for it', async () => {
  const html = '<html><head><style>p { color: red; }</style></head><body><p>Hi {{ name }}</p></body></html>';
  assert.match((await rendered(template({ html, inlineCss: true }), { name: 'Bob' })).html ?? '', /<p style="color: red;">Hi Bob<\/p>/);
  const plain = (await rendered(template({ html }), { name: 'Bob' })).html ?? '';
  assert.match(plain, /<style>p \{ color: red; \}<\/style>/);
  assert.match(plain, /<p>Hi Bob<\/p>/);
});

test('a subject is one line, whatever the template or the context put in it', async () => {
  const out = await rendered(template({ subject: '{% if vip %}\n  VIP: {% endif %}{{ title }}\n', text: 'x' }), { vip: true, title: 'a\r\nBcc: victim@example.com' });
  assert.equal(out.subject, 'VIP: a Bcc: victim@example.com');
});

test('parsed templates are cached by name, language and version', async () => {
  const first = template({ text: 'first' });
  assert.equal((await rendered(first, {})).text, 'first');
  // Same version: the cache answers, so a changed source is not even read.
  assert.equal((await rendered({ ...first, text: 'second' }, {})).text, 'first');
  assert.equal((await rendered({ ...first, text: 'second', version: `${first.version}.1` }, {})).text, 'second');
  assert.equal((await rendered({ ...first, language: 'de', text: 'zweite' }, {})).text, 'zweite');
});

test('a render that runs too long or builds too much fails instead of stalling the thread', async () => {
  const slow = await renderTemplate(template({ text: '{% for i in (1..3000) %}{% for j in (1..3000) %}x{% endfor %}{% endfor %}' }), {});
  assert.match(slow.ok ? '' : slow.message, /^template render limit exceeded \(in text, /);
  const big = await renderTemplate(template({ text: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' }), {});
  assert.match(big.ok ? '' : big.message, /^memory alloc limit exceeded \(in text, /);
});

// A nested :has() over a deep tree: juice takes minutes over 2,000 elements.
const slowCss = `<style>${Array.from({ length: 20 }, (_, i) => `div:has(div:has(div:has(div:has(span.q${i})))) { color: red; }`).join('\n')}</style>`
  + ('<div>'.repeat(500) + '<span>x</span>' + '</div>'.repeat(500)).repeat(4);

test('CSS inlining has a time limit: a stylesheet too complex to inline fails the render, and the next render works', async () => {
  const started = Date.now();
  const slow = await renderTemplate(template({ html: slowCss, inlineCss: true, textFromHtml: false }), {});
  assert.deepEqual(slow, {
    ok: false,
    field: 'html',
    message: `render limit exceeded: inlining the CSS took longer than ${FINISH_LIMIT_MS} ms (the HTML or its CSS is too large or too complex)`,
  });
  assert.ok(Date.now() - started < 30_000, 'the render was cut off, not waited for');
  // The thread that was cut off is replaced.
  const html = '<style>p { color: red; }</style><p>Hi {{ name }}</p>';
  assert.match((await rendered(template({ html, inlineCss: true }), { name: 'Ann' })).html ?? '', /<p style="color: red;">Hi Ann<\/p>/);
});

test('making the text part from the HTML has the same limit', async () => {
  const huge = `<table>${'<tr><td class="c">hello</td><td>x</td></tr>'.repeat(40_000)}</table>`;
  const slow = await renderTemplate(template({ html: huge }), {});
  assert.equal(slow.ok ? '' : slow.message, `render limit exceeded: making the text part took longer than ${FINISH_LIMIT_MS} ms (the HTML or its CSS is too large or too complex)`);
});

test('renders side by side each get their result', async () => {
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => rendered(template({ html: `<style>b { color: red; }</style><b>{{ n }}</b>`, inlineCss: true }), { n: i })));
  results.forEach((out, i) => {
    assert.equal(out.html, `<b style="color: red;">${i}</b>`);
    assert.equal(out.text, String(i).toUpperCase());
  });
});

// Rendering stored templates (src/templates/render.ts): HTML escaped and text not, strict
// variables per template, syntax errors with line and column, no file access, the text part
// from HTML, CSS inlining, and the parse cache keyed by the template's version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSyntax, renderTemplate } from '../../src/templates/render.ts';
import type { RenderedTemplate, TemplateContent } from '../../src/templates/template.ts';

let versions = 0;
function template(fields: Partial<TemplateContent>): TemplateContent {
  return {
    name: 'welcome', language: '', version: String(++versions), subject: 'Hello', text: null, html: null,
    strictVariables: false, textFromHtml: true, inlineCss: false, ...fields,
  };
}

function rendered(content: TemplateContent, context: Record<string, unknown>): RenderedTemplate {
  const result = renderTemplate(content, context);
  assert.ok(result.ok, `render failed: ${result.ok ? '' : result.message}`);
  return result.rendered;
}

test('HTML output is escaped; text and subject are not', () => {
  const out = rendered(
    template({ subject: 'Hi {{ name }}', text: 'Hi {{ name }}', html: '<p>Hi {{ name }}</p>' }),
    { name: '<script>alert("x")</script> & co' },
  );
  assert.equal(out.html, '<p>Hi &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co</p>');
  assert.equal(out.text, 'Hi <script>alert("x")</script> & co');
  assert.equal(out.subject, 'Hi <script>alert("x")</script> & co');
});

test('a template may opt out of escaping one value with | raw', () => {
  assert.equal(rendered(template({ html: '{{ block | raw }}' }), { block: '<b>bold</b>' }).html, '<b>bold</b>');
});

test('strict variables: an undefined variable fails the render, naming it and where it is', () => {
  const result = renderTemplate(template({ strictVariables: true, text: 'Dear\n  {{ user.name }}' }), { user: {} });
  assert.deepEqual(result, { ok: false, field: 'text', message: 'undefined variable: user.name (in text, line 2, column 6)' });
});

test('without strict variables an undefined variable renders as nothing', () => {
  assert.equal(rendered(template({ text: 'Dear {{ user.name }}!' }), {}).text, 'Dear !');
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

test('the text part is made from the HTML when there is no text template, unless switched off', () => {
  const html = '<h1>Hi {{ name }}</h1><p>See <a href="https://example.com/a">your account</a>.</p><img src="cid:logo" alt="Logo">';
  const out = rendered(template({ html }), { name: 'Bob' });
  assert.equal(out.text, 'HI BOB\n\nSee your account [https://example.com/a].');
  assert.equal(rendered(template({ html, textFromHtml: false }), { name: 'Bob' }).text, null);
  assert.equal(rendered(template({ html, text: 'Own text for {{ name }}' }), { name: 'Bob' }).text, 'Own text for Bob');
});

test('CSS is inlined when the template asks for it', () => {
  const html = '<html><head><style>p { color: red; }</style></head><body><p>Hi {{ name }}</p></body></html>';
  assert.match(rendered(template({ html, inlineCss: true }), { name: 'Bob' }).html ?? '', /<p style="color: red;">Hi Bob<\/p>/);
  const plain = rendered(template({ html }), { name: 'Bob' }).html ?? '';
  assert.match(plain, /<style>p \{ color: red; \}<\/style>/);
  assert.match(plain, /<p>Hi Bob<\/p>/);
});

test('a subject is one line, whatever the template or the context put in it', () => {
  const out = rendered(template({ subject: '{% if vip %}\n  VIP: {% endif %}{{ title }}\n', text: 'x' }), { vip: true, title: 'a\r\nBcc: victim@example.com' });
  assert.equal(out.subject, 'VIP: a Bcc: victim@example.com');
});

test('parsed templates are cached by name, language and version', () => {
  const first = template({ text: 'first' });
  assert.equal(rendered(first, {}).text, 'first');
  // Same version: the cache answers, so a changed source is not even read.
  assert.equal(rendered({ ...first, text: 'second' }, {}).text, 'first');
  assert.equal(rendered({ ...first, text: 'second', version: `${first.version}.1` }, {}).text, 'second');
  assert.equal(rendered({ ...first, language: 'de', text: 'zweite' }, {}).text, 'zweite');
});

test('a render that runs too long or builds too much fails instead of stalling the thread', () => {
  const slow = renderTemplate(template({ text: '{% for i in (1..3000) %}{% for j in (1..3000) %}x{% endfor %}{% endfor %}' }), {});
  assert.match(slow.ok ? '' : slow.message, /^template render limit exceeded \(in text, /);
  const big = renderTemplate(template({ text: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' }), {});
  assert.match(big.ok ? '' : big.message, /^memory alloc limit exceeded \(in text, /);
});

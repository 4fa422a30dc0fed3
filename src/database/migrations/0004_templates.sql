-- Stored email templates (django-post_office's EmailTemplate): one row per name and language.
-- The empty language is the default, which an email falls back to when its translation is
-- missing. updated_at is also the version of the parsed-template caches (src/templates/render.ts),
-- so every change moves it forward.

CREATE TABLE templates (
  name             text NOT NULL,
  language         text NOT NULL DEFAULT '',
  description      text,
  subject          text NOT NULL,
  text             text,
  html             text,
  example_context  jsonb,                          -- what preview renders with when given no context
  strict_variables boolean NOT NULL DEFAULT false, -- an undefined variable fails the render
  text_from_html   boolean NOT NULL DEFAULT true,  -- no text template: the text part comes from the HTML
  inline_css       boolean NOT NULL DEFAULT false, -- <style> rules moved into style="" attributes
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, language)
);

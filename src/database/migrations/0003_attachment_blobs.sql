-- Attachments stored once, content-addressed by SHA-256, and referenced by every email that
-- carries them (django-post_office #465 asked for this). A blob with no reference left is
-- removed by the retention job, but only once it has not been referenced for a while, so an
-- enqueue that is about to reference it again never races the deletion.

CREATE TABLE attachment_blobs (
  sha256        text PRIMARY KEY,          -- hex digest of the decoded content
  content       bytea NOT NULL,
  size          integer NOT NULL,
  referenced_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE email_attachments (
  email_id uuid NOT NULL REFERENCES emails (id) ON DELETE CASCADE,
  sha256   text NOT NULL REFERENCES attachment_blobs (sha256),
  PRIMARY KEY (email_id, sha256)
);
CREATE INDEX email_attachments_blob_idx ON email_attachments (sha256);

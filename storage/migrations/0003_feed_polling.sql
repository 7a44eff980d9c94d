-- Polling state for sources that have a feed: conditional GET validators, backoff, health.

ALTER TABLE sources ADD COLUMN poll_interval INTEGER NOT NULL DEFAULT 900;
ALTER TABLE sources ADD COLUMN next_poll_at INTEGER;
ALTER TABLE sources ADD COLUMN last_polled_at INTEGER;
ALTER TABLE sources ADD COLUMN etag TEXT;
ALTER TABLE sources ADD COLUMN last_modified TEXT;
ALTER TABLE sources ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN last_error TEXT;

CREATE INDEX sources_poll_due ON sources (next_poll_at) WHERE feed_url IS NOT NULL AND enabled = 1;

-- Sources, article summaries, subscriptions and the delivery ledger.
-- Times are whole seconds since the Unix epoch, UTC.

CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    website TEXT,
    feed_url TEXT,
    bias TEXT NOT NULL DEFAULT 'unrated'
        CHECK (bias IN ('left', 'lean left', 'center', 'lean right', 'right', 'mixed', 'unrated')),
    scope TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX sources_name_scope ON sources (name_key, scope);
CREATE UNIQUE INDEX sources_feed_scope ON sources (feed_url, scope) WHERE feed_url IS NOT NULL;

CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    lead TEXT NOT NULL,
    key_points TEXT NOT NULL DEFAULT '[]',
    url TEXT,
    canonical_url TEXT,
    guid TEXT,
    published_at INTEGER,
    sort_at INTEGER NOT NULL,
    ai_generated INTEGER NOT NULL DEFAULT 0,
    dedupe_key TEXT NOT NULL UNIQUE,
    stored_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX articles_source_guid ON articles (source_id, guid) WHERE guid IS NOT NULL;
CREATE UNIQUE INDEX articles_canonical_url ON articles (canonical_url) WHERE canonical_url IS NOT NULL;
CREATE INDEX articles_sort ON articles (sort_at DESC, id DESC);
CREATE INDEX articles_source_sort ON articles (source_id, sort_at DESC);

CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    thread_id TEXT NOT NULL DEFAULT '',
    times TEXT NOT NULL,
    days TEXT NOT NULL,
    timezone TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    next_due_at INTEGER,
    last_article_id INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (platform, chat_id, thread_id)
);
CREATE INDEX subscriptions_due ON subscriptions (next_due_at) WHERE enabled = 1;

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    slot_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'skipped')),
    article_ids TEXT NOT NULL DEFAULT '[]',
    cursor INTEGER NOT NULL DEFAULT 0,
    message_ids TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (subscription_id, slot_at)
);
CREATE INDEX deliveries_status ON deliveries (status, updated_at);
CREATE INDEX deliveries_retry ON deliveries (retry_at) WHERE retry_at IS NOT NULL;

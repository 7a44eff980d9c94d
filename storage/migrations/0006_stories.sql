-- Stories: the same news reported by several outlets. Every article belongs to one story, named by
-- the id of the story's first article, so an article stored before this step is a story of its own.
-- story_keys indexes the name words of each article by time, so the candidates for a new article
-- are the recent ones sharing a name, found without reading the rest of the store.

ALTER TABLE articles ADD COLUMN story_id INTEGER;
UPDATE articles SET story_id = id;
CREATE INDEX articles_story ON articles (story_id);

CREATE TABLE story_keys (
    key TEXT NOT NULL,
    sort_at INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (key, sort_at, article_id)
) WITHOUT ROWID;
CREATE INDEX story_keys_article ON story_keys (article_id);

-- How many articles have each feature bot.stories compares on (content stems, name words,
-- figures), and under '*' how many articles were counted: the document frequencies that make
-- words every story uses count for little. Kept up to date as articles are stored.
CREATE TABLE story_terms (
    term TEXT PRIMARY KEY,
    df INTEGER NOT NULL
) WITHOUT ROWID;

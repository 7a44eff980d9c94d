-- requires: fts5
-- Full-text search over summaries. Skipped (and search falls back to LIKE) where SQLite
-- was built without FTS5.

CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, lead, key_points,
    content = 'articles', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, lead, key_points)
    VALUES (new.id, new.title, new.lead, new.key_points);
END;

CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, lead, key_points)
    VALUES ('delete', old.id, old.title, old.lead, old.key_points);
END;

CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, lead, key_points ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, lead, key_points)
    VALUES ('delete', old.id, old.title, old.lead, old.key_points);
    INSERT INTO articles_fts (rowid, title, lead, key_points)
    VALUES (new.id, new.title, new.lead, new.key_points);
END;

INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');

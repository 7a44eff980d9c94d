-- Article ids are never reused. Digest cursors, the delivery ledger and the ids shown in digests
-- already sent name articles by id, and SQLite hands the id of a deleted newest article (its
-- source removed) to the next one, which a chat's cursor would then skip. The highest id ever
-- given is kept here.

CREATE TABLE id_watermarks (
    name TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO id_watermarks (name, last_id) SELECT 'articles', coalesce(max(id), 0) FROM articles;

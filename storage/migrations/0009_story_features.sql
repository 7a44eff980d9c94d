-- How story_terms was counted: bot.stories.FEATURES names the way fingerprint() reads a summary's
-- words (its rules and its synonym table). When a new build reads them differently, the counts are
-- made again from the stored articles at open; counts kept under other words would weigh the new
-- ones wrongly for weeks. No row yet: the counts are made again at the first open.

CREATE TABLE story_features (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    features TEXT NOT NULL
);

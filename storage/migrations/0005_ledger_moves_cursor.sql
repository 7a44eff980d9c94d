-- A delivery marked sent (or skipped) moves its subscription's cursor past the articles it
-- considered, in the same statement, so closing a slot is one atomic write.

CREATE TRIGGER deliveries_move_cursor AFTER UPDATE OF status ON deliveries
WHEN new.status IN ('sent', 'skipped') AND new.cursor > 0
BEGIN
    UPDATE subscriptions SET last_article_id = max(last_article_id, new.cursor)
    WHERE id = new.subscription_id;
END;

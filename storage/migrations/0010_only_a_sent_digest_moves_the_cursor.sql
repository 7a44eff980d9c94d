-- Only a sent digest moves its subscription's cursor. A claimed slot can now end skipped without
-- being sent (too late to send after an outage, or superseded by a later slot while it waited for a
-- retry), and its stories must still go out in the next digest.

DROP TRIGGER deliveries_move_cursor;

CREATE TRIGGER deliveries_move_cursor AFTER UPDATE OF status ON deliveries
WHEN new.status = 'sent' AND new.cursor > 0
BEGIN
    UPDATE subscriptions SET last_article_id = max(last_article_id, new.cursor)
    WHERE id = new.subscription_id;
END;

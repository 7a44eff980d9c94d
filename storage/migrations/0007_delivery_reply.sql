-- Which reply a delivery's messages so far belong to (Reply.checksum). A retry goes on after them
-- only while the digest is still the same: its stories can merge and its articles be corrected
-- between attempts, and then it is sent whole rather than missing a part.

ALTER TABLE deliveries ADD COLUMN reply_checksum TEXT;

-- Notifications go to people, not organisations: each person of an organisation has their own copy, read or
-- unread on its own, and people without an organisation (experts) can be notified too. The rules live in
-- bidding/notifications/repo.py.

ALTER TABLE notifications ADD COLUMN user_id bigint REFERENCES users (id);

-- Every notification an organisation had becomes one for each of its people, in the same order and read state.
INSERT INTO notifications (organisation_id, user_id, kind, tender_id, payload, created_at, read_at)
SELECT n.organisation_id, u.id, n.kind, n.tender_id, n.payload, n.created_at, n.read_at
FROM notifications AS n JOIN users AS u ON u.organisation_id = n.organisation_id
WHERE n.user_id IS NULL
ORDER BY n.id, u.id;

DELETE FROM notifications WHERE user_id IS NULL;

ALTER TABLE notifications ALTER COLUMN user_id SET NOT NULL, DROP COLUMN organisation_id;
CREATE INDEX notifications_by_user ON notifications (user_id, id DESC);

-- The position of an item in the list: the id of the transaction that created it, then its id.
-- A list page only serves rows below the oldest transaction still running, so no row can later
-- appear before a position already served (see items.Store.List).
-- Adding the column rewrites the table (volatile default): existing rows all get this
-- migration's transaction id, and keep their id order within it.

-- +goose Up
ALTER TABLE items ADD COLUMN created_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX items_list_position ON items (created_xid, id);

-- +goose Down
DROP INDEX items_list_position;
ALTER TABLE items DROP COLUMN created_xid;

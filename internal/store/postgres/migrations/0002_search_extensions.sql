-- tessera catalog schema, version 2: what filters, sorts, free text,
-- aggregations and queryables read.

-- search_text is the item's free-text words (search.Words over id,
-- collection, title, description and keywords), space-separated, computed
-- by the writer (Go) so that matching is exactly search.FreeText.Matches:
-- a phrase matches when ' ' || search_text || ' ' contains ' phrase '.
-- NULL for rows written before version 2 until Migrate's backfill (Go) has
-- filled them in (tessera_meta.backfill_v2 = 1).
ALTER TABLE items ADD COLUMN search_text text;
-- The words as an array, for the GIN index that narrows phrase searches to
-- the items holding all of a phrase's words.
CREATE INDEX items_search_words ON items USING gin (string_to_array(search_text, ' '));

-- The centre of the item's bbox (as in the document), which the grid
-- aggregations count by.
ALTER TABLE items ADD COLUMN bbox_cx float8;
ALTER TABLE items ADD COLUMN bbox_cy float8;

INSERT INTO tessera_meta (key, value) VALUES ('backfill_v2', 0);

-- The property names (and JSON types) the items of each collection hold:
-- the data part of the queryables. Rows are only ever added while the
-- collection exists (a property that no item holds any more stays listed),
-- and go with the collection.
CREATE TABLE item_properties (
  collection text COLLATE "C" NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  name       text COLLATE "C" NOT NULL,
  type       text NOT NULL,
  PRIMARY KEY (collection, name, type)
);

INSERT INTO item_properties (collection, name, type)
  SELECT DISTINCT i.collection, p.key, jsonb_typeof(p.value)
  FROM items i, jsonb_each(i.content->'properties') p
  WHERE jsonb_typeof(p.value) <> 'null' AND strpos(p.key, '"') = 0 AND strpos(p.key, '\') = 0
  ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value ANY
) STRICT;

CREATE TABLE IF NOT EXISTS collections (
  id  TEXT PRIMARY KEY,
  doc TEXT NOT NULL
) STRICT;

-- Times are unix microseconds (UTC). start_datetime/end_datetime hold the
-- item's effective interval: datetime itself when it is set.
CREATE TABLE IF NOT EXISTS items (
  rowid          INTEGER PRIMARY KEY,
  collection     TEXT NOT NULL,
  id             TEXT NOT NULL,
  datetime       INTEGER,
  start_datetime INTEGER NOT NULL,
  end_datetime   INTEGER NOT NULL,
  minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
  geometry       BLOB NOT NULL,
  doc            TEXT NOT NULL,
  UNIQUE (collection, id)
) STRICT;

CREATE INDEX IF NOT EXISTS items_datetime ON items (start_datetime DESC, id DESC, collection DESC);
CREATE INDEX IF NOT EXISTS items_collection_datetime ON items (collection, start_datetime DESC, id DESC);
CREATE INDEX IF NOT EXISTS items_id ON items (id);

-- Bounding boxes of items; a box that crosses the antimeridian is stored
-- as the full longitude range (the exact test in Go narrows it down).
CREATE VIRTUAL TABLE IF NOT EXISTS items_rtree USING rtree (id, minx, maxx, miny, maxy);

CREATE TRIGGER IF NOT EXISTS items_rtree_insert AFTER INSERT ON items BEGIN
  INSERT INTO items_rtree VALUES (new.rowid,
    CASE WHEN new.minx > new.maxx THEN -180 ELSE new.minx END,
    CASE WHEN new.minx > new.maxx THEN 180 ELSE new.maxx END,
    new.miny, new.maxy);
END;

CREATE TRIGGER IF NOT EXISTS items_rtree_update AFTER UPDATE OF minx, miny, maxx, maxy ON items BEGIN
  UPDATE items_rtree SET
    minx = CASE WHEN new.minx > new.maxx THEN -180 ELSE new.minx END,
    maxx = CASE WHEN new.minx > new.maxx THEN 180 ELSE new.maxx END,
    miny = new.miny, maxy = new.maxy
  WHERE id = new.rowid;
END;

CREATE TRIGGER IF NOT EXISTS items_rtree_delete AFTER DELETE ON items BEGIN
  DELETE FROM items_rtree WHERE id = old.rowid;
END;

-- The property names (and JSON types) the items of each collection hold:
-- the data part of the queryables.
CREATE TABLE IF NOT EXISTS item_properties (
  collection TEXT NOT NULL,
  name       TEXT NOT NULL,
  type       TEXT NOT NULL,
  PRIMARY KEY (collection, name, type)
) STRICT, WITHOUT ROWID;

-- Registered searches (mosaics of search results): id → the search as JSON.
CREATE TABLE IF NOT EXISTS searches (
  id      TEXT PRIMARY KEY,
  doc     TEXT NOT NULL,
  created INTEGER NOT NULL
) STRICT;

-- The free-text index (items_fts) is created by freetext.go.

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

-- The result order, newest first. The indexes also hold the bbox: a search
-- by place that walks them (a box too large for the R*Tree to drive) tests
-- each entry's bbox in the index and reads only the rows inside it. Without
-- it every row walked was read from the table: a 10° box took 40 ms at 1M
-- items instead of 3 (docs/benchmarks.md). Catalogs made before get these
-- indexes built when they are opened, once, and lose the older ones.
CREATE INDEX IF NOT EXISTS items_datetime_bbox ON items (start_datetime DESC, id DESC, collection DESC, minx, miny, maxx, maxy);
CREATE INDEX IF NOT EXISTS items_collection_datetime_bbox ON items (collection, start_datetime DESC, id DESC, minx, miny, maxx, maxy);
DROP INDEX IF EXISTS items_datetime;
DROP INDEX IF EXISTS items_collection_datetime;
CREATE INDEX IF NOT EXISTS items_id ON items (id);

-- Bounding boxes and time intervals of items, in one R*Tree: a search by
-- bbox and datetime walks only what is inside both. Times are centuries
-- since 1970: on that scale items are short next to their extent in
-- degrees, so the tree splits them by place and a search by place alone
-- stays fast (by days it split by time, and walking 1,100 candidates of a
-- 6° box took 6 ms instead of 1); time still filters every leaf. The
-- R*Tree keeps 32-bit floats, rounding boxes outwards (a few minutes of
-- slack at worst); the exact tests follow. A box that crosses
-- the antimeridian is stored as the full longitude range (the exact test
-- in Go narrows it down). Catalogs with the older 2-D items_rtree are
-- converted when opened (store.go).
CREATE VIRTUAL TABLE IF NOT EXISTS items_space_time USING rtree (id, minx, maxx, miny, maxy, mint, maxt);

CREATE TRIGGER IF NOT EXISTS items_space_time_insert AFTER INSERT ON items BEGIN
  INSERT INTO items_space_time VALUES (new.rowid,
    CASE WHEN new.minx > new.maxx THEN -180 ELSE new.minx END,
    CASE WHEN new.minx > new.maxx THEN 180 ELSE new.maxx END,
    new.miny, new.maxy,
    new.start_datetime / 3153600000000000.0, new.end_datetime / 3153600000000000.0);
END;

CREATE TRIGGER IF NOT EXISTS items_space_time_update
AFTER UPDATE OF minx, miny, maxx, maxy, start_datetime, end_datetime ON items BEGIN
  UPDATE items_space_time SET
    minx = CASE WHEN new.minx > new.maxx THEN -180 ELSE new.minx END,
    maxx = CASE WHEN new.minx > new.maxx THEN 180 ELSE new.maxx END,
    miny = new.miny, maxy = new.maxy,
    mint = new.start_datetime / 3153600000000000.0, maxt = new.end_datetime / 3153600000000000.0
  WHERE id = new.rowid;
END;

CREATE TRIGGER IF NOT EXISTS items_space_time_delete AFTER DELETE ON items BEGIN
  DELETE FROM items_space_time WHERE id = old.rowid;
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

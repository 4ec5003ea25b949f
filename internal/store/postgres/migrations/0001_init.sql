-- tessera catalog schema, version 1.
--
-- Objects are created unqualified: they go to the first schema of the
-- connection's search_path (normally public). PostGIS must be installable
-- by the migrating role, or already installed by a superuser.
CREATE EXTENSION IF NOT EXISTS postgis;

-- Key/value facts the store keeps about itself.
CREATE TABLE tessera_meta (
  key   text PRIMARY KEY,
  value bigint NOT NULL
);
-- The longest [start_datetime, end_datetime] of any item ever stored, in
-- microseconds: it turns "end_datetime >= S" into the index bound
-- "start_datetime >= S - max_span". It only grows.
INSERT INTO tessera_meta (key, value) VALUES ('max_span_us', 0);

-- Identifiers compare byte-wise (COLLATE "C"), as in the SQLite store, so
-- both backends order results and page tokens the same way.
CREATE TABLE collections (
  id      text COLLATE "C" PRIMARY KEY,
  content jsonb NOT NULL,
  -- doc is the canonical document exactly as written (jsonb normalises
  -- whitespace and key order, so it cannot give the bytes back).
  doc     text NOT NULL
);

-- Items, one LIST partition per collection (tessera_create_partition). The
-- effective interval [start_datetime, end_datetime] is datetime itself when
-- it is set.
CREATE TABLE items (
  collection     text COLLATE "C" NOT NULL,
  id             text COLLATE "C" NOT NULL,
  datetime       timestamptz,
  start_datetime timestamptz NOT NULL,
  end_datetime   timestamptz NOT NULL,
  geometry       geometry(Geometry, 4326) NOT NULL,
  -- content is what filters read, tessera_item_content(doc):
  -- {"properties": {...}} (CQL2: content->'properties'->'eo:cloud_cover').
  -- The other top-level members filters can name (id, collection,
  -- geometry) are columns; assets and links are left out, which keeps
  -- rows small enough to stay inline and makes bulk loads about twice as
  -- fast.
  content        jsonb COMPRESSION lz4 NOT NULL,
  -- doc is the canonical item document, byte for byte; searches return it.
  -- lz4 compresses several times faster than the default pglz.
  doc            text COMPRESSION lz4 NOT NULL,
  PRIMARY KEY (collection, id)
) PARTITION BY LIST (collection);

CREATE INDEX items_geometry ON items USING gist (geometry);
-- The result order. Within a partition collection is constant, so this
-- index also serves "collection = X ORDER BY start_datetime DESC, id DESC":
-- a separate (collection, start_datetime DESC, id DESC) index would be an
-- exact duplicate of it in every partition and only slow down writes.
CREATE INDEX items_datetime ON items (start_datetime DESC, id DESC, collection DESC);

-- tessera_item_content is the content column of an item document.
CREATE FUNCTION tessera_item_content(doc text) RETURNS jsonb
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT jsonb_build_object('properties', coalesce((doc::json)->'properties', '{}'::json)) $$;

-- tessera_partition names the partition of a collection's items.
CREATE FUNCTION tessera_partition(collection text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT 'items_' || md5(collection) $$;

-- tessera_create_partition creates the partition of a collection (when it
-- does not exist yet), in the schema of the items table. Rows stay inline
-- up to a full page (toast_tuple_target): a search then reads one heap
-- tuple per item, and a write skips the TOAST table and its index.
CREATE FUNCTION tessera_create_partition(collection text) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  parent regclass := 'items'::regclass;
  nsp    text;
BEGIN
  SELECT n.nspname INTO nsp FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
  IF to_regclass(format('%I.%I', nsp, tessera_partition(collection))) IS NULL THEN
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES IN (%L) WITH (toast_tuple_target = 8160)',
      nsp, tessera_partition(collection), parent, collection);
  END IF;
END $$;

-- tessera_drop_partition drops the partition of a collection's items.
CREATE FUNCTION tessera_drop_partition(collection text) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  nsp text;
BEGIN
  SELECT n.nspname INTO nsp FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'items'::regclass;
  EXECUTE format('DROP TABLE IF EXISTS %I.%I', nsp, tessera_partition(collection));
END $$;

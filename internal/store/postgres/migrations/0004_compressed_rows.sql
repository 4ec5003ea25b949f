-- tessera catalog schema, version 4: item rows are compressed in place.
--
-- With toast_tuple_target = 8160 a row under a page was never compressed,
-- so a new item copied straight into its partition took a page of its own
-- (a 4.7 KB document, stored as is). From half a page on, the row's
-- largest values are compressed (lz4) until it fits: a typical item then
-- takes about 2.3 KB, three to a page, and a write extends the table, WALs
-- and dirties a third as many pages. Only rows that still exceed half a
-- page once compressed move values out to TOAST.
CREATE OR REPLACE FUNCTION tessera_create_partition(collection text) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  parent regclass := 'items'::regclass;
  nsp    text;
BEGIN
  SELECT n.nspname INTO nsp FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
  IF to_regclass(format('%I.%I', nsp, tessera_partition(collection))) IS NULL THEN
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES IN (%L) WITH (toast_tuple_target = 4080)',
      nsp, tessera_partition(collection), parent, collection);
  END IF;
END $$;

-- Existing partitions: rows written from now on (stored rows keep their
-- form until they are rewritten).
DO $$
DECLARE
  part regclass;
BEGIN
  FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'items'::regclass LOOP
    EXECUTE format('ALTER TABLE %s SET (toast_tuple_target = 4080)', part);
  END LOOP;
END $$;

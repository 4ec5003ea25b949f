-- tessera catalog schema, version 6: the free-text word index compares
-- words byte-wise (COLLATE "C").
--
-- Words are lower-case letters and digits (search.Words), so byte order is
-- as good an order as any, and equality, all that @> asks, is the same in
-- every deterministic collation. With the database's collation (C.UTF-8 or
-- a language's) every comparison of a GIN insert went through strcoll:
-- about a tenth of the server's CPU in a bulk load (docs/benchmarks.md).
-- Searches name the same expression (freeTextSQL).
--
-- Building it reads every item: on a large catalog this migration takes
-- minutes and blocks writes meanwhile.
DROP INDEX items_search_words;
CREATE INDEX items_search_words ON items USING gin ((string_to_array(search_text, ' ') COLLATE "C"));

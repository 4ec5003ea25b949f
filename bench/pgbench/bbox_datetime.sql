-- bbox (4°×4°) + datetime (3 months) + collection, limit 10: the first query of
-- the catalog benchmark's mix, as tessera's PostgreSQL store runs it, for pgbench
-- (docs/benchmarks.md, PostgreSQL).
\set x random(-170, 160)
\set y random(-50, 60)
\set m random(0, 99)
SELECT i.doc FROM items i WHERE i.collection = 'sentinel-2-synthetic' AND ST_Intersects(i.geometry, ST_MakeEnvelope(:x, :y, :x + 4, :y + 4, 4326)) AND i.start_datetime <= timestamptz '2016-01-01' + make_interval(months => :m + 3) AND i.start_datetime >= timestamptz '2016-01-01' + make_interval(months => :m) - interval '1 day' AND i.end_datetime >= timestamptz '2016-01-01' + make_interval(months => :m) ORDER BY i.start_datetime DESC, i.id DESC LIMIT 10;

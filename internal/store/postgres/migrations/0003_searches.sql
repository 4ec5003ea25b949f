-- tessera catalog schema, version 3: registered searches (the mosaic
-- tiler's POST /searches/register): id (a content hash the tiler computes)
-- → the search document, as the tiler wrote it.
CREATE TABLE searches (
  id      text COLLATE "C" PRIMARY KEY,
  doc     text NOT NULL,
  created timestamptz NOT NULL DEFAULT now()
);

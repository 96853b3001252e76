-- The initial schema of atoll's PostgreSQL store (see doc.go). Keys are
-- bytea so that they keep any bytes the caller gives and sort in byte
-- order, as bbolt's do.

-- +goose Up
CREATE TABLE atoll_locks (
    repo         bytea       NOT NULL,
    dir          bytea       NOT NULL,
    workspace    bytea       NOT NULL,
    owner_repo   text        NOT NULL,
    owner_number integer     NOT NULL,
    author       text        NOT NULL,
    head_sha     text        NOT NULL,
    taken        timestamptz NOT NULL,
    PRIMARY KEY (repo, dir, workspace)
);
CREATE INDEX atoll_locks_owner ON atoll_locks (owner_repo, owner_number);

CREATE TABLE atoll_deliveries (
    seq      bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    id       bytea       NOT NULL PRIMARY KEY,
    event    text        NOT NULL,
    body     bytea,
    received timestamptz NOT NULL,
    state    text        NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    error    text        NOT NULL DEFAULT '',
    finished timestamptz
);
CREATE INDEX atoll_deliveries_pending ON atoll_deliveries (seq) WHERE state = 'pending';

CREATE TABLE atoll_records (
    bucket bytea NOT NULL,
    key    bytea NOT NULL,
    value  bytea NOT NULL,
    PRIMARY KEY (bucket, key)
);

CREATE TABLE atoll_sequences (
    bucket bytea  NOT NULL PRIMARY KEY,
    value  bigint NOT NULL
);

CREATE TABLE atoll_audit (
    seq    bigint NOT NULL PRIMARY KEY,
    record bytea  NOT NULL
);

-- +goose Down
DROP TABLE atoll_audit;
DROP TABLE atoll_sequences;
DROP TABLE atoll_records;
DROP TABLE atoll_deliveries;
DROP TABLE atoll_locks;

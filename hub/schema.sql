-- The hub's ledger database. Movements are immutable; balances change only by deltas
-- inside the transaction that records the movement; `check_ledger` proves the two agree.

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- One row per station; `epoch` is its current journal incarnation.
CREATE TABLE IF NOT EXISTS stations (
    station TEXT PRIMARY KEY,
    epoch TEXT,
    state TEXT NOT NULL DEFAULT 'unknown',      -- online / offline, from its retained status
    status TEXT,                                 -- the last status payload (JSON)
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);

-- Exactly once: everything up to `applied` of (station, epoch) is in the ledger.
CREATE TABLE IF NOT EXISTS cursors (
    station TEXT NOT NULL,
    epoch TEXT NOT NULL,
    applied INTEGER NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (station, epoch)
);

-- Events that arrived after a gap: held, never applied out of order, never skipped.
CREATE TABLE IF NOT EXISTS pending (
    station TEXT NOT NULL,
    epoch TEXT NOT NULL,
    seq INTEGER NOT NULL,
    payload BLOB NOT NULL,
    received TEXT NOT NULL,
    PRIMARY KEY (station, epoch, seq)
);

-- Every applied station event (scans included), with station time and hub time.
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    station TEXT NOT NULL,
    epoch TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    ts TEXT NOT NULL,          -- station wall clock (may be wrong: a Pi has no RTC)
    hub_ts TEXT NOT NULL,      -- when the hub applied it
    data TEXT NOT NULL,        -- the event's data as JSON
    UNIQUE (station, epoch, seq)
);
CREATE INDEX IF NOT EXISTS events_type ON events (type, id);

-- Balance changes. `id` is the ledger sequence other systems dedupe on.
CREATE TABLE IF NOT EXISTS movements (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id),
    type TEXT NOT NULL,
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    lot TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    delta INTEGER NOT NULL,
    ts TEXT NOT NULL,
    hub_ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS movements_sku ON movements (sku, id);
CREATE INDEX IF NOT EXISTS movements_location ON movements (location, id);
CREATE INDEX IF NOT EXISTS movements_event ON movements (event_id);

CREATE TABLE IF NOT EXISTS balances (
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    lot TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    qty INTEGER NOT NULL,
    PRIMARY KEY (sku, location, lot, owner)
);
CREATE INDEX IF NOT EXISTS balances_location ON balances (location);

-- Messages the ingest could not accept, with why: nothing is dropped silently.
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    reason TEXT NOT NULL,
    received TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    data TEXT NOT NULL,        -- the protocol Product as JSON (what stations cache)
    updated TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS gtins (
    gtin TEXT PRIMARY KEY,     -- zero-padded to 14 digits
    sku TEXT NOT NULL,
    units INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS gtins_sku ON gtins (sku);

CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    data TEXT NOT NULL,        -- the protocol Order as JSON
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);

CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    sku TEXT,
    station TEXT,
    ts TEXT NOT NULL,
    cleared TEXT
);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts (cleared, id);

-- What the hub still has to publish, written in the same transaction as its cause.
-- A retained topic keeps only its newest unsent row.
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the publisher reads "id > last sent"
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_topic ON outbox (topic);

-- web: users and sessions below
-- Supervisors' logins. `password` is a werkzeug hash string (scrypt), never the password.
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'supervisor', 'admin')),
    password TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);

-- A logged-in browser. Only the SHA-256 of the session id is kept, so a stolen database
-- file does not log anyone in; removing a user ends their sessions.
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);

-- Failed logins, per username and per address, so the rate limit survives restarts.
CREATE TABLE IF NOT EXISTS login_failures (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,        -- 'user' or 'addr'
    key TEXT NOT NULL,
    ts REAL NOT NULL           -- unix seconds
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (kind, key, ts);

-- Page reads that must stay fast on big ledgers.
CREATE INDEX IF NOT EXISTS balances_negative ON balances (sku) WHERE qty < 0;
CREATE INDEX IF NOT EXISTS products_name ON products (name COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS events_order_log
    ON events (json_extract(data, '$.order'), id) WHERE type IN ('scan', 'shipment');
CREATE INDEX IF NOT EXISTS events_hub_ts ON events (hub_ts);
CREATE INDEX IF NOT EXISTS orders_updated ON orders (updated);
CREATE INDEX IF NOT EXISTS orders_status_updated ON orders (status, updated);

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
-- Capped per source and in all, and kept for a while (hub.deadletters); a message that
-- comes again is counted on its row (`repeats`), not stored again.
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,                 -- the first bytes only (see `size`)
    reason TEXT NOT NULL,
    received TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',       -- the station, or what else sent it (intake, outbox)
    size INTEGER NOT NULL DEFAULT 0,       -- the whole payload's length in bytes
    digest TEXT NOT NULL DEFAULT '',       -- sha256 of topic and whole payload: repeats
    repeats INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS dead_letters_source ON dead_letters (source, id);
CREATE INDEX IF NOT EXISTS dead_letters_digest ON dead_letters (digest);

-- How many dead letters each source ever sent, and how many the caps dropped since.
CREATE TABLE IF NOT EXISTS dead_letter_counts (
    source TEXT PRIMARY KEY,
    received INTEGER NOT NULL,
    dropped INTEGER NOT NULL DEFAULT 0
);

-- A station event the ingest could not apply (set aside as a dead letter): its station's
-- later events wait behind it until it applies after all (a resend after a fix) or a
-- supervisor skips it; `decided`/`decided_by`/`note` record that decision.
CREATE TABLE IF NOT EXISTS event_failures (
    station TEXT NOT NULL,
    epoch TEXT NOT NULL,
    seq INTEGER NOT NULL,
    dead_letter INTEGER NOT NULL,
    reason TEXT NOT NULL,
    since TEXT NOT NULL,
    decided TEXT,
    decided_by TEXT,
    note TEXT,
    PRIMARY KEY (station, epoch, seq)
);
-- Every ingest batch asks whether any failure waits for a decision (decided IS NULL).
CREATE INDEX IF NOT EXISTS event_failures_decided ON event_failures (decided);

CREATE TABLE IF NOT EXISTS products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    data TEXT NOT NULL,        -- the protocol Product as JSON (what stations cache)
    updated TEXT NOT NULL,
    master TEXT NOT NULL DEFAULT '{}',  -- the hub's whole record (hub.catalog.ProductRecord)
    unit_cost INTEGER,         -- money is stored in millionths (micros): exact integer sums
    par_level INTEGER,
    reorder_point INTEGER,     -- NULL: computed from demand (hub.planning)
    safety_stock INTEGER,      -- NULL: computed from demand variability
    high_risk INTEGER NOT NULL DEFAULT 0,
    owner TEXT NOT NULL DEFAULT ''  -- consignment: the stock belongs to this owner
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
    updated TEXT NOT NULL,
    closed TEXT                -- when it became shipped, short or cancelled
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
    cleared TEXT,
    dedupe TEXT                -- one open alert per key (e.g. 'low_stock:MUG-1')
);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts (cleared, id);
CREATE INDEX IF NOT EXISTS alerts_kind ON alerts (kind, id);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_dedupe ON alerts (dedupe) WHERE cleared IS NULL;

-- What the hub still has to publish, written in the same transaction as its cause.
-- A retained topic keeps only its newest unsent row.
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the publisher reads "id > last sent"
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_topic ON outbox (topic);

-- ===== inventory domain =====================================================================
CREATE TABLE IF NOT EXISTS product_suppliers (
    sku TEXT NOT NULL,
    supplier TEXT NOT NULL,
    rank INTEGER NOT NULL,     -- 0 is the preferred supplier
    lead_time_days INTEGER NOT NULL,
    unit_cost INTEGER,
    PRIMARY KEY (sku, supplier)
);
CREATE INDEX IF NOT EXISTS product_suppliers_supplier ON product_suppliers (supplier);

CREATE TABLE IF NOT EXISTS kit_components (
    kit TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    PRIMARY KEY (kit, sku)
);

CREATE TABLE IF NOT EXISTS locations (
    code TEXT PRIMARY KEY,
    zone TEXT NOT NULL DEFAULT '',
    aisle TEXT NOT NULL DEFAULT '',
    bay TEXT NOT NULL DEFAULT '',
    bin TEXT NOT NULL DEFAULT '',
    barcode TEXT NOT NULL UNIQUE,  -- LOC:<code>
    updated TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS suppliers (
    supplier TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    lead_time_days INTEGER NOT NULL,  -- promised, used when a product names none
    updated TEXT NOT NULL
);

-- Lots with their expiry, for first-expired-first-out advice and expiry alerts.
CREATE TABLE IF NOT EXISTS lots (
    sku TEXT NOT NULL,
    lot TEXT NOT NULL,
    expiry TEXT,
    first_received TEXT NOT NULL,
    expiry_alerted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sku, lot)
);
CREATE INDEX IF NOT EXISTS lots_expiry ON lots (expiry);

-- Sales order lines; kits are exploded into their components (kit = the kit's sku).
CREATE TABLE IF NOT EXISTS order_lines (
    order_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    shipped INTEGER NOT NULL DEFAULT 0,
    short INTEGER NOT NULL DEFAULT 0,
    kit TEXT NOT NULL DEFAULT '',      -- component of this kit line
    role TEXT NOT NULL,                -- stock (commits), kit (the kit itself), dropship
    supplier TEXT,
    po TEXT,                           -- the dropship purchase order
    open INTEGER NOT NULL DEFAULT 1,   -- 1 while the order may still ship it
    PRIMARY KEY (order_id, line)
);
CREATE INDEX IF NOT EXISTS order_lines_commit ON order_lines (sku) WHERE open = 1 AND role = 'stock';

CREATE TABLE IF NOT EXISTS purchase_orders (
    po TEXT PRIMARY KEY,
    supplier TEXT,
    status TEXT NOT NULL,      -- open, receiving, received, closed, cancelled
    ordered TEXT NOT NULL,     -- date ordered
    expected TEXT,             -- date promised
    first_receipt TEXT,
    completed TEXT,            -- when received in full, closed or confirmed
    order_id TEXT,             -- dropship: the sales order it fulfils
    dropship INTEGER NOT NULL DEFAULT 0,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS purchase_orders_supplier ON purchase_orders (supplier, completed);
CREATE INDEX IF NOT EXISTS purchase_orders_status ON purchase_orders (status);

CREATE TABLE IF NOT EXISTS po_lines (
    po TEXT NOT NULL,
    line INTEGER NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    unit_cost INTEGER,
    PRIMARY KEY (po, line)
);
CREATE INDEX IF NOT EXISTS po_lines_sku ON po_lines (sku);

-- FIFO cost layers of our own stock (owner ''), per (sku, location, lot). A layer with a
-- negative qty_left is a deficit: units issued before any cost layer covered them.
CREATE TABLE IF NOT EXISTS cost_layers (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    lot TEXT NOT NULL,
    movement_id INTEGER NOT NULL,     -- the movement that created it
    received TEXT NOT NULL,           -- FIFO order (kept when stock moves)
    qty_in INTEGER NOT NULL,
    qty_left INTEGER NOT NULL,
    unit_cost INTEGER NOT NULL,       -- micros
    kind TEXT NOT NULL                -- for a deficit: the movement type that caused it
);
CREATE INDEX IF NOT EXISTS cost_layers_open ON cost_layers (sku, location, lot, received, id)
    WHERE qty_left != 0;
CREATE INDEX IF NOT EXISTS cost_layers_movement ON cost_layers (movement_id);
-- The deficits a receipt settles (few): without it each receipt read every open layer of
-- its line.
CREATE INDEX IF NOT EXISTS cost_layers_deficit ON cost_layers (sku, location, lot, received, id)
    WHERE qty_left < 0;
-- A SKU's last priced receipt (the cost of units no receipt priced): without it, every
-- such receipt scanned the layers back to the SKU's previous one.
CREATE INDEX IF NOT EXISTS cost_layers_last_in ON cost_layers (sku, id) WHERE qty_in > 0;

-- Every unit that left a layer (qty > 0) or came back (qty < 0), at its cost; true-ups of
-- deficits carry the cost difference. COGS = the flows of shipments.
CREATE TABLE IF NOT EXISTS cost_flows (
    id INTEGER PRIMARY KEY,
    movement_id INTEGER NOT NULL,
    sku TEXT NOT NULL,
    kind TEXT NOT NULL,               -- the consuming movement's type
    layer_id INTEGER,
    qty INTEGER NOT NULL,             -- units (0 for a true-up)
    unit_cost INTEGER NOT NULL,       -- micros
    value INTEGER NOT NULL,           -- micros: qty x unit_cost, or a true-up's difference
    day TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cost_flows_movement ON cost_flows (movement_id);

-- Consignment: what each sale of someone else's stock owes them.
CREATE TABLE IF NOT EXISTS consignment_owed (
    id INTEGER PRIMARY KEY,
    movement_id INTEGER NOT NULL,
    owner TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    unit_cost INTEGER NOT NULL,
    day TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS consignment_owed_owner ON consignment_owed (owner, day);

CREATE TABLE IF NOT EXISTS consignment_prices (
    sku TEXT NOT NULL,
    owner TEXT NOT NULL,
    unit_cost INTEGER NOT NULL,
    PRIMARY KEY (sku, owner)
);

-- Per-day aggregates, kept in the applying transaction, so that reports never sum the ledger.
CREATE TABLE IF NOT EXISTS daily_sku (
    day TEXT NOT NULL,
    sku TEXT NOT NULL,
    out_qty INTEGER NOT NULL DEFAULT 0,     -- shipped units (demand)
    in_qty INTEGER NOT NULL DEFAULT 0,      -- received units
    cogs INTEGER NOT NULL DEFAULT 0,        -- micros
    PRIMARY KEY (sku, day)
);
CREATE INDEX IF NOT EXISTS daily_sku_day ON daily_sku (day);

CREATE TABLE IF NOT EXISTS daily_totals (
    day TEXT PRIMARY KEY,
    value_delta INTEGER NOT NULL DEFAULT 0, -- change of our stock's FIFO value, micros
    cogs INTEGER NOT NULL DEFAULT 0,
    units_ordered INTEGER NOT NULL DEFAULT 0,  -- of order lines closed that day
    units_shipped INTEGER NOT NULL DEFAULT 0,
    orders_closed INTEGER NOT NULL DEFAULT 0,
    order_hours REAL NOT NULL DEFAULT 0,       -- sum of created -> closed, hours
    counts INTEGER NOT NULL DEFAULT 0,
    counts_exact INTEGER NOT NULL DEFAULT 0,
    po_lines INTEGER NOT NULL DEFAULT 0,       -- of purchase orders completed that day
    po_lines_exact INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS sku_activity (
    sku TEXT PRIMARY KEY,
    last_out TEXT,              -- day of the last shipment
    last_count TEXT,            -- day of the last count
    low INTEGER NOT NULL DEFAULT 0,
    pick_location TEXT          -- where open orders were last told to pick it (migration 1)
);
CREATE INDEX IF NOT EXISTS sku_activity_last_out ON sku_activity (last_out);
CREATE INDEX IF NOT EXISTS sku_activity_low ON sku_activity (sku) WHERE low = 1;

CREATE TABLE IF NOT EXISTS scan_stats (
    day TEXT NOT NULL,
    station TEXT NOT NULL,
    operator TEXT NOT NULL,
    mode TEXT NOT NULL,
    scans INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, station, operator, mode)
);

-- Counts, with the book they were reconciled against; big variances wait for approval.
CREATE TABLE IF NOT EXISTS counts (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL,
    station TEXT NOT NULL,
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    lot TEXT,                   -- NULL: all lots at the location
    book INTEGER NOT NULL,
    counted INTEGER NOT NULL,
    variance INTEGER NOT NULL,
    status TEXT NOT NULL,       -- posted, pending, approved, rejected, superseded
    task TEXT,
    ts TEXT NOT NULL,
    decided_by TEXT,
    decided TEXT,
    posted_event INTEGER        -- the hub event that posted an approved variance
);
CREATE INDEX IF NOT EXISTS counts_status ON counts (status, id);
CREATE INDEX IF NOT EXISTS counts_task ON counts (task);

CREATE TABLE IF NOT EXISTS count_runs (
    run TEXT PRIMARY KEY,
    cutoff TEXT NOT NULL,
    status TEXT NOT NULL,       -- open, done
    created TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS count_tasks (
    task TEXT PRIMARY KEY,
    station TEXT NOT NULL,
    location TEXT NOT NULL,
    sku TEXT,
    status TEXT NOT NULL,       -- open, done, cancelled
    run TEXT,
    created TEXT NOT NULL,
    done TEXT
);
CREATE INDEX IF NOT EXISTS count_tasks_open ON count_tasks (status, sku);
CREATE INDEX IF NOT EXISTS count_tasks_run ON count_tasks (run);

-- ABC classes, recomputed from daily_sku (not per page): report pages and count schedules read it.
CREATE TABLE IF NOT EXISTS abc_classes (
    sku TEXT PRIMARY KEY,
    class TEXT NOT NULL,
    value INTEGER NOT NULL,     -- consumption value over the last 365 days, micros
    share REAL NOT NULL,        -- cumulative share of the total, this product included
    rank INTEGER NOT NULL,
    computed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS abc_classes_rank ON abc_classes (rank);
-- max(computed): the report's summary and the housekeeping's check each minute.
CREATE INDEX IF NOT EXISTS abc_classes_computed ON abc_classes (computed);

-- The slow reports' rows, recomputed by the housekeeping once a day (and on demand) so a
-- page reads rows instead of grouping every balance or planning every product. A run
-- answers only for its day and its settings (`params`, JSON); other queries compute live.
CREATE TABLE IF NOT EXISTS report_runs (
    report TEXT PRIMARY KEY,    -- dead-stock, surplus, reorder
    day TEXT NOT NULL,          -- the reference day the rows are for
    computed TEXT NOT NULL,     -- when they were computed
    params TEXT NOT NULL        -- the settings they were computed with
);
CREATE TABLE IF NOT EXISTS dead_stock_rows (
    sku TEXT PRIMARY KEY,
    on_hand INTEGER NOT NULL,
    last_out TEXT
);
CREATE TABLE IF NOT EXISTS surplus_rows (
    sku TEXT PRIMARY KEY,
    on_hand INTEGER NOT NULL,
    shipped INTEGER NOT NULL    -- units shipped in the demand window
);
-- Every product's plan; a page re-reads the stock position of its rows (planning.py).
CREATE TABLE IF NOT EXISTS reorder_plans (
    sku TEXT PRIMARY KEY,
    due INTEGER NOT NULL,
    target INTEGER NOT NULL,    -- what an order fills up to
    mean REAL NOT NULL,         -- mean daily demand, unrounded (for order_by)
    plan TEXT NOT NULL          -- planning.Plan as JSON
);
CREATE INDEX IF NOT EXISTS reorder_plans_due ON reorder_plans (sku) WHERE due = 1;

-- Corrections: a movement's event is reversed at most once.
CREATE TABLE IF NOT EXISTS reversals (
    event_id INTEGER PRIMARY KEY,
    reversal_event INTEGER NOT NULL,
    reason TEXT NOT NULL
);

-- Contingency plans: expected demand multiplied by `factor` on the days in range.
CREATE TABLE IF NOT EXISTS demand_uplifts (
    id INTEGER PRIMARY KEY,
    sku TEXT,                   -- NULL: every product
    start_day TEXT NOT NULL,
    end_day TEXT NOT NULL,
    factor REAL NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);

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
CREATE INDEX IF NOT EXISTS products_name ON products (name COLLATE NOCASE);  -- name search scans it
CREATE INDEX IF NOT EXISTS products_high_risk ON products (sku) WHERE high_risk = 1;
CREATE INDEX IF NOT EXISTS orders_created ON orders (created DESC, order_id);
CREATE INDEX IF NOT EXISTS purchase_orders_ordered ON purchase_orders (ordered DESC, po);
CREATE INDEX IF NOT EXISTS events_order_log
    ON events (json_extract(data, '$.order'), id) WHERE type IN ('scan', 'shipment');
CREATE INDEX IF NOT EXISTS events_hub_ts ON events (hub_ts);
CREATE INDEX IF NOT EXISTS events_po_receipts
    ON events (json_extract(data, '$.po'), id) WHERE type = 'receipt';
CREATE INDEX IF NOT EXISTS orders_updated ON orders (updated);
CREATE INDEX IF NOT EXISTS orders_status_updated ON orders (status, updated);
-- A list in one status, in the list's order: planned without the status (PostgreSQL's
-- generic plan), the list's own order index is otherwise walked whole for a rare status.
CREATE INDEX IF NOT EXISTS orders_status_created ON orders (status, created DESC, order_id);
CREATE INDEX IF NOT EXISTS purchase_orders_status_ordered
    ON purchase_orders (status, ordered DESC, po);
CREATE INDEX IF NOT EXISTS count_tasks_status_task ON count_tasks (status, task);

-- Customer returns (hub/returns.py). One row per line of a `return` event: what came back
-- against which order, in what condition, why, where it went, and its value at the FIFO
-- cost it left with (for scrap: the value written off).
CREATE TABLE IF NOT EXISTS return_lines (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id),
    day TEXT NOT NULL,
    order_id TEXT NOT NULL,
    rma TEXT NOT NULL DEFAULT '',
    sku TEXT NOT NULL,
    lot TEXT NOT NULL DEFAULT '',
    qty INTEGER NOT NULL,
    condition TEXT NOT NULL,           -- resellable, damaged, scrap
    reason TEXT NOT NULL,
    location TEXT NOT NULL,
    serials TEXT NOT NULL DEFAULT '[]',
    value INTEGER NOT NULL             -- micros
);
CREATE INDEX IF NOT EXISTS return_lines_order ON return_lines (order_id, sku);
CREATE INDEX IF NOT EXISTS return_lines_day ON return_lines (day);
-- A return event's lines (corrections, the event's page); and the foreign key's check, which
-- SQLite plans into every `INSERT INTO events`.
CREATE INDEX IF NOT EXISTS return_lines_event ON return_lines (event_id);

-- Return authorisations other systems create (POST /api/returns): an RMA number for an
-- order, optionally limited to some of its lines (JSON [{sku, qty}], [] = all shipped).
CREATE TABLE IF NOT EXISTS rmas (
    rma TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    lines TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rmas_order ON rmas (order_id);

-- Locations whose stock is held (quarantine): on hand, but not available to orders and
-- never a pick location. A location joins when damaged returns are put there.
CREATE TABLE IF NOT EXISTS location_holds (
    location TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    since TEXT NOT NULL
);

-- ===== accounting, sales, consignment settlement, pick accuracy (issue 18) ==================
-- The change of our stock's FIFO value each movement made (micros), written where the
-- ledger books it into daily_totals.value_delta: the accountant's export lists these, so
-- its postings add up to the change of the closing value. Movements applied before this
-- table existed have no row (the export counts them as unvalued).
CREATE TABLE IF NOT EXISTS movement_values (
    movement_id INTEGER PRIMARY KEY,
    value INTEGER NOT NULL
);

-- What each shipment earned: shipped units of priced order lines (a kit line under the kit's
-- sku) at the line's sale price; a reversal adds the negative rows.
CREATE TABLE IF NOT EXISTS sale_lines (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL,
    order_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    revenue INTEGER NOT NULL,   -- micros
    day TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sale_lines_event ON sale_lines (event_id);

-- Revenue per sku and day, so the margin KPIs never sum sale_lines.
CREATE TABLE IF NOT EXISTS daily_sales (
    day TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL DEFAULT 0,
    revenue INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sku, day)
);
CREATE INDEX IF NOT EXISTS daily_sales_day ON daily_sales (day);

-- The FIFO cost of the parts of kits built at the bench and sold as kits: the ledger books
-- it as COGS of the parts (daily_sku); the margin per sku moves it to the kit (+ kit,
-- - part), so a kit's margin is its revenue against its parts' cost and no part counts it
-- again. A reversal adds the negative rows.
CREATE TABLE IF NOT EXISTS kit_sale_costs (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    kit TEXT NOT NULL,
    part TEXT NOT NULL,
    units INTEGER NOT NULL,     -- units of the part
    cogs INTEGER NOT NULL       -- micros
);
CREATE INDEX IF NOT EXISTS kit_sale_costs_event ON kit_sale_costs (event_id);
CREATE INDEX IF NOT EXISTS kit_sale_costs_day ON kit_sale_costs (day);

-- Dropship sales: the supplier shipped straight to the customer (the dropship purchase
-- order confirmed). No stock moves, so no movement and no FIFO cost: the revenue is the
-- order line's sale price, the cost the purchase order line's, both booked on the day
-- of the confirmation.
CREATE TABLE IF NOT EXISTS dropship_sales (
    id INTEGER PRIMARY KEY,
    po TEXT NOT NULL,
    order_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    revenue INTEGER NOT NULL,   -- micros; 0 for a line without a sale price
    cost INTEGER,               -- micros; NULL when the purchase order line has no cost
    day TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dropship_sales_day ON dropship_sales (day);

-- Consignment settlements: everything owed up to `through_id` (a consignment_owed id) is
-- settled; the next settlement report of the owner starts after it.
CREATE TABLE IF NOT EXISTS consignment_settlements (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    through_id INTEGER NOT NULL,
    until_day TEXT NOT NULL,
    units INTEGER NOT NULL,
    amount INTEGER NOT NULL,    -- micros
    recorded TEXT NOT NULL,
    by TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS consignment_settlements_owner ON consignment_settlements (owner, id);

-- Pack scans per packer and day: item scans judged ok or wrong (prompts are left out), the
-- first and last pack scan's station time (the span worked), and what the packer shipped.
CREATE TABLE IF NOT EXISTS pick_stats (
    day TEXT NOT NULL,
    station TEXT NOT NULL,
    operator TEXT NOT NULL,
    picks INTEGER NOT NULL DEFAULT 0,
    wrong INTEGER NOT NULL DEFAULT 0,
    first_ts TEXT,
    last_ts TEXT,
    orders INTEGER NOT NULL DEFAULT 0,
    lines INTEGER NOT NULL DEFAULT 0,
    weight_overrides INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, station, operator)
);

-- Parcel weighings per packer and day, counted apart from pick accuracy: shipments whose
-- weight was checked, of them those weighed outside the tolerance at least once, and the
-- readings outside it (a shipment's `weight_mismatches`). A table of its own: pick_stats
-- came with no migration, so a ledger at this version may be without it.
CREATE TABLE IF NOT EXISTS weigh_stats (
    day TEXT NOT NULL,
    station TEXT NOT NULL,
    operator TEXT NOT NULL,
    checked INTEGER NOT NULL DEFAULT 0,
    reweighed INTEGER NOT NULL DEFAULT 0,
    mismatches INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, station, operator)
);

-- ===== a central hub: every site's movements, applied once by (site, ledger_seq) (issue 15)
-- Each site's stock as its own movements made it (docs/multi-site.md). The UNIQUE key is
-- what makes a site's movement count once, whatever the bridge delivers twice.
CREATE TABLE IF NOT EXISTS site_movements (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    lot TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    delta INTEGER NOT NULL,
    value INTEGER NOT NULL DEFAULT 0,   -- micros: the change of the site's FIFO value
    payload TEXT NOT NULL,              -- the message as applied (a duplicate is compared)
    applied TEXT NOT NULL,              -- the centre's clock
    ts TEXT NOT NULL DEFAULT '',        -- the site hub's clock (hub_ts): the day it counts on
    UNIQUE (site, ledger_seq)
);
CREATE INDEX IF NOT EXISTS site_movements_ts ON site_movements (ts);

-- A site's movements that arrived after a gap: held, applied in ledger_seq order.
CREATE TABLE IF NOT EXISTS site_pending (
    site TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    received TEXT NOT NULL,
    PRIMARY KEY (site, ledger_seq)
);

CREATE TABLE IF NOT EXISTS site_balances (
    site TEXT NOT NULL,
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    lot TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    qty INTEGER NOT NULL,
    value INTEGER NOT NULL,             -- micros (our own stock's FIFO value; 0 if owned)
    PRIMARY KEY (site, sku, location, lot, owner)
);

-- The centre's latest word of what each site's open orders hold per SKU (`committed` of
-- its stock/{sku} messages): its own orders, which the centre does not see, and the
-- routed ones it has taken. Routing leaves it out of the stock it routes by; the company
-- reorder leaves it and `quarantined` (held locations, transit too) out of a position.
CREATE TABLE IF NOT EXISTS site_committed (
    site TEXT NOT NULL,
    sku TEXT NOT NULL,
    committed INTEGER NOT NULL,
    quarantined INTEGER NOT NULL DEFAULT 0,
    ledger_seq INTEGER NOT NULL,            -- of the snapshot: an older one never wins
    PRIMARY KEY (site, sku)
);

-- One row per site: the applied cursor, what the site is known to have, the link.
CREATE TABLE IF NOT EXISTS site_links (
    site TEXT PRIMARY KEY,
    applied INTEGER NOT NULL DEFAULT 0,      -- every movement up to it is applied
    known INTEGER NOT NULL DEFAULT 0,        -- the highest ledger_seq seen (movements, stock)
    link TEXT NOT NULL DEFAULT 'unknown',    -- up / down: the bridge's notification
    link_changed TEXT,
    hub_state TEXT NOT NULL DEFAULT 'unknown',  -- the site hub's retained status
    last_applied TEXT,                       -- the centre's clock at the last applied one
    behind_since TEXT                        -- since when known > applied (centre's clock)
);

-- The latest of each site's station statuses and alerts, by topic (and alert id).
CREATE TABLE IF NOT EXISTS site_feeds (
    site TEXT NOT NULL,
    key TEXT NOT NULL,                       -- station/{id}/status, alert/{id}
    state TEXT NOT NULL,                     -- online / offline, raised / cleared
    payload TEXT NOT NULL,
    received TEXT NOT NULL,
    PRIMARY KEY (site, key)
);

-- ===== several hub processes (docs/scaling.md: several processes) =================
-- Each running hub process, and when it last said it was alive (unix seconds, its clock).
CREATE TABLE IF NOT EXISTS workers (
    id TEXT PRIMARY KEY,       -- host:pid:role:random, unique per run
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    role TEXT NOT NULL,        -- ingest or web (the single process has no row)
    started DOUBLE PRECISION NOT NULL,
    heartbeat DOUBLE PRECISION NOT NULL
);

-- Which ingest worker applies a station's events, until when: taken by a conditional
-- UPDATE once expired, renewed by the holder's heartbeat. The applying transaction reads
-- its row, so a worker whose lease ran out applies nothing more.
CREATE TABLE IF NOT EXISTS station_leases (
    station TEXT PRIMARY KEY,
    worker TEXT NOT NULL,      -- '' while nobody has taken it yet
    expires_at DOUBLE PRECISION NOT NULL  -- unix seconds (a 4-byte REAL would round to minutes)
);
CREATE INDEX IF NOT EXISTS station_leases_worker ON station_leases (worker);

-- Work done by one ingest worker at a time: publishing the outbox, housekeeping.
CREATE TABLE IF NOT EXISTS duty_leases (
    duty TEXT PRIMARY KEY,
    worker TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);

-- At a site: the orders the central hub routed here (their status goes back to it).
CREATE TABLE IF NOT EXISTS from_centre (
    order_id TEXT PRIMARY KEY,
    received TEXT NOT NULL
);

-- At the central hub: each order it routed to a site, and where it stands there.
CREATE TABLE IF NOT EXISTS central_orders (
    order_id TEXT PRIMARY KEY,
    payload TEXT NOT NULL,                   -- the order as received (protocol Order)
    site TEXT NOT NULL,                      -- where it is (or is being sent)
    state TEXT NOT NULL,                     -- routed (sent), the site's status, rejected, withdrawing
    reason TEXT,                             -- why it went there, or why the site refused it
    next_site TEXT,                          -- while withdrawing: where it goes once cancelled
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS central_orders_state ON central_orders (state);

-- ===== transfers between sites (issue 15) =================================================
-- At the centre: each transfer as the centre knows it (the TransferOrder it sends both
-- sites). At a site: the transfers it sends or receives, as the centre last told it.
CREATE TABLE IF NOT EXISTS transfers (
    transfer TEXT PRIMARY KEY,
    from_site TEXT NOT NULL,
    to_site TEXT NOT NULL,
    status TEXT NOT NULL,                  -- open / in_transit / received
    created TEXT NOT NULL,                 -- this hub's clock
    shipped TEXT,                          -- when this hub learnt it shipped
    received TEXT,                         -- when this hub learnt it was received
    booked_out INTEGER NOT NULL DEFAULT 0, -- the sender booked its transit out (a site)
    payload TEXT NOT NULL,                 -- the latest TransferOrder (JSON)
    -- At the centre: received, every receipt applied and the sender's transit empty in
    -- its replay: the sites' books count the units once, nothing to correct (migration 8).
    settled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS transfers_unsettled ON transfers (status) WHERE settled = 0;

-- The receiving site's movements (ledger_seq, its movement id) that booked a transfer in:
-- at that site as it receives, at the centre from its `received` report (which counts a
-- unit once in the company's stock, whichever site's movements it applies first).
CREATE TABLE IF NOT EXISTS transfer_receipts (
    transfer TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL,
    PRIMARY KEY (transfer, ledger_seq)
);

-- At the receiving site: which of its movements booked a transfer in, keyed by movement,
-- so that `movements` names the transfer on each of them (1.6), live and when resent. Only
-- a receiving site writes it (the centre's transfer_receipts hold other sites' numbers).
CREATE TABLE IF NOT EXISTS transfer_movements (
    movement_id INTEGER PRIMARY KEY,
    transfer TEXT NOT NULL
);

-- At the receiving site: the sender's cost layers of a transfer in transit, oldest first;
-- receipts take them in order (so the receiving site's FIFO value is the sender's).
CREATE TABLE IF NOT EXISTS transfer_layers (
    transfer TEXT NOT NULL,
    sku TEXT NOT NULL,
    n INTEGER NOT NULL,
    lot TEXT NOT NULL DEFAULT '',
    qty_left INTEGER NOT NULL,
    unit_cost INTEGER NOT NULL,            -- micros
    received TEXT NOT NULL,                -- the layer's FIFO date at the sender
    PRIMARY KEY (transfer, sku, n)
);

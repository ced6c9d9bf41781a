"""All of the hub's SQL, so the domain never speaks to the database directly.

Functions take an open connection and do one thing. Writes are made inside
`transaction(conn)` by the caller, so that an event, its movements, its balance deltas
and what must be published about them commit together or not at all. Callers use
`from hub import store` and `store.some_function(conn, ...)`: every public name is imported
here from the module that holds its aggregate:

- connection: connect, schema and migrations, transactions (SQLite file or PostgreSQL;
  what PostgreSQL needs bridged is in `postgres`)
- exactly_once: stations, their epochs, applied cursors, held (pending) events
- ledger: events, movements, balances, reversals, ledger checks
- event_failures: station events that could not be applied, and the decisions on them
- outbox: what the hub publishes, until the broker has it
- dead_letters: messages set aside with the reason, bounded
- alerts: supervisor alerts
- meta: key-value facts, named counters, the hub's journal epoch
- catalog: products, master data, GTINs, product suppliers, kits
- locations_suppliers: locations and suppliers
- lots: lots, expiry, first-expired-first-out allocation
- cost_layers: FIFO cost layers, cost flows, consignment owed
- daily_aggregates: per-day totals, sku activity and low-stock flags, scan counts
- orders: customer orders and their lines
- purchase_orders: purchase orders, receipts, units on order
- counts: stock counts, full-count runs, count tasks
- reports: report pages, stored report rows, ABC classes
- returns: what was shipped and came back, RMAs, quarantine holds
- accounting: movement values, a period's postings, cost true-ups
- sales: sale prices per shipment, revenue and margin
- settlements: consignment owed and settled
- picking: pick accuracy and pace per packer
- reorder_plans: reorder planning inputs, demand uplifts, stored plans
- accounts: web users, sessions, failed logins
- pages: read queries behind the web pages
- sites: a central hub's sites: their movements applied once, their stock and links
- routing: orders a central hub routed to a site, at the centre and at the site
- site_reports: a central hub's movement lists, totals and valuation per site, and the
  figures of its reports
- workers: live hub processes, station leases, one-at-a-time duties
"""

# Every import here is a re-export for `store.name` callers, none is used in this file.
# ruff: noqa: F401

from hub.store.accounting import (
    first_movement_on,
    movement_values_add,
    postings_between,
    true_ups_of,
)
from hub.store.accounts import (
    User,
    login_failure_add,
    login_failure_remove,
    login_failures_clear,
    login_failures_prune,
    login_failures_since,
    session_add,
    session_delete,
    session_user,
    sessions_expire,
    user_add,
    user_get,
    user_list,
    user_remove,
    user_set_password,
)
from hub.store.alerts import (
    alert_add,
    alert_clear,
    alert_clear_id,
    alert_count_open,
    alert_messages_set,
    alert_open,
    alerts_changed,
    alerts_open,
    alerts_open_keys,
    alerts_open_of,
    alerts_page,
    alerts_read_ahead,
)
from hub.store.catalog import (
    ProductPolicy,
    gtin_conflicts,
    gtin_owner,
    gtins_replace,
    high_risk_skus,
    kit_components,
    kit_replace,
    product_exists,
    product_get,
    product_master_get,
    product_master_set,
    product_owner_cost,
    product_policies,
    product_policies_of,
    product_policy,
    product_skus,
    product_skus_after,
    product_suppliers,
    product_suppliers_replace,
    product_unit_cost,
    product_upsert,
    products_owner_cost,
)
from hub.store.connection import (
    MIGRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    Connection,
    close_quietly,
    connect,
    connect_pooled,
    create_schema,
    data_errors,
    db_errors,
    for_process,
    give_up_after,
    is_postgres,
    is_postgres_url,
    item_errors,
    open_pool,
    rehearsal,
    schema_version,
    snapshot,
    transaction,
    writes_held,
)
from hub.store.cost_layers import (
    Layer,
    check_layers,
    consignment_owed_add,
    consignment_owed_of,
    consignment_price,
    consignment_price_set,
    consignment_totals,
    deficit_add,
    deficit_lines_read_ahead,
    flow_add,
    flows_of,
    last_costs_read_ahead,
    last_layer_cost,
    layer_add,
    layer_take,
    layer_value,
    layers_deficit,
    layers_of_sku,
    layers_open,
)
from hub.store.counts import (
    CountRow,
    count_add,
    count_decide,
    count_due_lines,
    count_get,
    count_list,
    count_run_add,
    count_run_get,
    count_run_set,
    count_runs,
    count_task_add,
    count_task_done,
    count_task_get,
    count_tasks,
    count_tasks_open_skus,
    counts_of_run,
    counts_pending,
    counts_pending_of,
)
from hub.store.daily_aggregates import (
    activity_count,
    activity_flags,
    activity_out,
    activity_set,
    consumption_values,
    daily_sku_add,
    daily_totals,
    daily_totals_add,
    demand_days,
    low_stock_page,
    scan_day_totals,
    scan_day_totals_of,
    scan_stats_add,
    scan_totals,
    value_after,
    value_total,
)
from hub.store.dead_letters import (
    DEAD_LETTER_PAYLOAD_BYTES,
    dead_letter,
    dead_letter_counts,
    dead_letter_sources_over,
    dead_letters,
    dead_letters_drop,
)
from hub.store.event_failures import (
    EventFailure,
    event_failure_add,
    event_failure_decide,
    event_failure_get,
    event_failures,
    event_failures_applied,
    event_failures_open_any,
    event_failures_to_skip,
)
from hub.store.exactly_once import (
    Gap,
    cursor_get,
    cursor_set,
    cursors,
    cursors_of,
    gaps,
    pending_any,
    pending_drop_applied,
    pending_get,
    pending_journals,
    pending_put,
    pending_take,
    station_epoch,
    station_list,
    station_seen,
    station_set_epoch,
    station_status_get,
    station_status_set,
    stations_seen,
)
from hub.store.ledger import (
    LedgerMismatch,
    Movement,
    MovementRecord,
    balance_get,
    balances_read_ahead,
    check_ledger,
    duplicate_events,
    event_content,
    event_gaps,
    event_insert,
    event_max_seqs,
    event_type,
    ledger_holes,
    ledger_position,
    movement_add,
    movement_get,
    movement_hub_ts_before,
    movement_records,
    movements_latest,
    movements_of_event,
    movements_of_sku,
    on_hand,
    on_hand_by_sku,
    reversal_add,
    reversal_of,
    stock_lines,
    stock_lines_of,
    stock_list,
)
from hub.store.locations_suppliers import (
    location_by_barcode,
    location_codes,
    location_list,
    location_upsert,
    supplier_exists,
    supplier_lead_time,
    supplier_list,
    supplier_upsert,
)
from hub.store.lots import (
    fefo_lines,
    lot_mark_alerted,
    lot_seen,
    lots_expiring,
    pick_location,
    pick_locations_of,
    stock_at,
)
from hub.store.meta import (
    counter_next,
    hub_epoch,
    meta_get,
    meta_set,
)
from hub.store.orders import (
    OrderLineRow,
    committed,
    committed_by_sku,
    committed_of,
    kits_on_open_orders,
    order_created,
    order_get,
    order_line_update,
    order_lines,
    order_lines_replace,
    order_list,
    order_status,
    order_upsert,
    orders_open_of,
    orders_waiting_for,
)
from hub.store.outbox import (
    outbox_batched,
    outbox_delete,
    outbox_first_id,
    outbox_last_id,
    outbox_put,
    outbox_read,
    outbox_set_aside,
    savepoint,
)
from hub.store.pages import (
    catalog_stock_page,
    events_today,
    held_summary,
    location_stock,
    order_log,
    order_row,
    orders_in_status,
    orders_page,
    packs_since,
    po_receipts,
    pos_expected_by,
    scan_errors_since,
    stock_search,
)
from hub.store.picking import (
    pack_shipped_add,
    pack_weighed_add,
    pick_scans_add,
    pick_stats_between,
    weigh_stats_between,
)
from hub.store.purchase_orders import (
    PoRow,
    on_order,
    on_order_by_sku,
    po_delete,
    po_get,
    po_insert,
    po_line_receive,
    po_lines,
    po_list,
    po_set,
    supplier_lead_times,
)
from hub.store.reorder_plans import (
    demand_sums,
    preferred_suppliers,
    reorder_plan_get,
    reorder_plan_set_due,
    reorder_plans_of,
    reorder_plans_page,
    reorder_plans_replace,
    uplift_add,
    uplift_delete,
    uplift_get,
    uplift_set_end,
    uplifts,
)
from hub.store.reports import (
    abc_computed,
    abc_page,
    abc_replace,
    dead_stock_all,
    dead_stock_page,
    dead_stock_replace,
    dead_stock_stored,
    report_run,
    report_run_set,
    stock_page,
    surplus_all,
    surplus_page,
    surplus_replace,
    surplus_stored,
    valuation_page,
)
from hub.store.returns import (
    ShippedUnits,
    location_held,
    location_hold,
    location_release,
    order_ids_closed_between,
    quarantine_lines,
    quarantined,
    quarantined_by_sku,
    quarantined_of,
    return_line_add,
    return_lines_of_event,
    return_rate_rows,
    returned_on_order,
    rma_add,
    rma_get,
    rmas_of_order,
    shipments_of_order,
    shipped_on_order,
    units_out_by_sku,
)
from hub.store.routing import (
    CentralOrder,
    central_order_get,
    central_order_put,
    central_orders_in,
    central_orders_list,
    from_centre_add,
    from_centre_changed,
    from_centre_has,
    site_committed,
    site_committed_set,
    site_not_available,
    site_on_hand,
)
from hub.store.sales import (
    dropship_sale_add,
    dropship_sales_between,
    kit_sale_cost_add,
    kit_sale_costs_of_event,
    margin_by_class,
    margin_by_day,
    margin_by_sku,
    margin_skus,
    sale_add,
    sales_of_event,
    shipment_costs,
)
from hub.store.settlements import (
    consignment_owed_between,
    consignment_owners,
    owed_unsettled,
    settlement_add,
    settlement_last,
    settlements,
)
from hub.store.site_reports import (
    SiteFilter,
    SiteMovementRow,
    SiteSkuValue,
    SiteTypeTotal,
    SiteValuation,
    site_alerts,
    site_daily_shipped,
    site_movements_list,
    site_shipped_values,
    site_sku_on_hand,
    site_sku_values,
    site_skus_on_hand,
    site_type_totals,
    site_valuations,
)
from hub.store.sites import (
    SiteLink,
    SiteMovement,
    check_sites,
    site_alert_set,
    site_applied_set,
    site_feed_counts,
    site_feed_set,
    site_hub_state_set,
    site_known_raise,
    site_lines,
    site_link_ensure,
    site_link_get,
    site_link_set,
    site_links,
    site_movement_add,
    site_movement_payload,
    site_pending_count,
    site_pending_drop_applied,
    site_pending_get,
    site_pending_put,
    site_pending_take,
    site_stock,
)
from hub.store.transfers import (
    TransferRow,
    TransitLayer,
    site_location_stock,
    transfer_booked_out,
    transfer_get,
    transfer_list,
    transfer_movements_put,
    transfer_put,
    transfer_receipts,
    transfer_receipts_applied,
    transfer_receipts_put,
    transfer_settle,
    transfers_to_settle,
    transfers_unfinished,
    transfers_unsettled,
    transit_layer_take,
    transit_layers,
    transit_layers_put,
)
from hub.store.workers import (
    Worker,
    duty_hold,
    duty_leases,
    station_lease_add,
    station_lease_release,
    station_lease_take,
    station_leases,
    station_leases_add_known,
    station_leases_renew,
    station_owned,
    stations_owned,
    worker_beat,
    worker_gone,
    workers_forget,
    workers_live,
)

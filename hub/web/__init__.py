"""The hub's web app: the supervisors' pages and the JSON API (a Flask app factory)."""

from collections.abc import Callable
from datetime import date, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, g

from hub import siteday, store
from hub.changes import ChangeFeed, LivePolls
from hub.health import Heartbeats
from hub.store.connection import Connection
from protocol.topics import Topics


def create_app(
    db_path: str,
    topics: Topics,
    tokens: list[str],
    changes: ChangeFeed | None = None,
    parked_polls: int = 8,
    outbox_wake: Callable[[], None] | None = None,
    secret_key: str | None = None,
    heartbeats: Heartbeats | None = None,
    timezone: str = "UTC",
    currency: str = "EUR",
    sites: list[str] | None = None,
    workers_stale_s: float = 5.0,
    data_dir: str | Path | None = None,
    db_connections: int = 8,
) -> Flask:
    """`db_path`: the ledger, a SQLite file or a PostgreSQL URL (`store.connect`).
    `secret_key` signs the session cookie; without one, a key generated once is kept in
    `data_dir` (by default the SQLite file's folder). On PostgreSQL the requests share
    `db_connections` open connections (at most one per web thread is ever in use); the
    hub calls `close_app` when it stops. `heartbeats`: the hub's loops, for /healthz (without them it
    reports the database only). `timezone` and `currency` are how the pages write times
    and money. At most `parked_polls` live polls wait at once (each holds one of the web
    server's threads). `sites`: the sites a central hub follows (none on a site hub)."""
    from hub.web import (
        accounting_api,
        api_catalog,
        api_counts,
        api_floor,
        api_ledger,
        api_orders,
        api_planning,
        api_site_reports,
        api_sites,
        api_transfers,
        api_users,
        auth,
        consignment_api,
        count_pages,
        failures,
        headers,
        health,
        label_pages,
        links,
        live,
        login,
        openapi,
        order_pages,
        pages,
        report_pages,
        returns_api,
        site_pages,
        site_report_pages,
        stock_pages,
        uplift_pages,
    )
    from hub.web.format import SiteFormat
    from hub.web.format import install as install_formats

    app = Flask(__name__)
    changes = changes or ChangeFeed()
    app.config.update(
        DB_PATH=db_path,
        TOPICS=topics,
        API_TOKENS=frozenset(tokens),
        CHANGES=changes,
        LIVE_POLLS=LivePolls(changes, parked_polls),
        OUTBOX_WAKE=outbox_wake or (lambda: None),
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        LOGIN_LIMIT=login.LoginLimit(),
        HEARTBEATS=heartbeats,
        SITES=list(sites or []),
        WORKERS_STALE_S=workers_stale_s,
        DB_POOL=store.open_pool(db_path, db_connections) if store.is_postgres_url(db_path)
        else None,
    )
    for error in store.data_errors():  # psycopg's too, once the pool above has loaded it
        app.register_error_handler(error, pages.unstorable)
    app.config["SITE_ZONE"] = ZoneInfo(timezone)  # whose midnight starts "today"
    install_formats(app, SiteFormat(app.config["SITE_ZONE"], currency))
    links.install(app)
    if data_dir is None and store.is_postgres_url(db_path):
        raise ValueError("a PostgreSQL ledger needs the data_dir to keep the web's key in")
    auth.init_app(app, auth.secret_key(Path(data_dir or Path(db_path).parent), secret_key))
    headers.init_app(app)
    app.register_blueprint(health.blueprint)
    for api_module in (api_ledger, api_catalog, api_orders, api_counts, api_planning,
                       api_floor, api_users, accounting_api, consignment_api,
                       returns_api, api_sites, api_site_reports, api_transfers):  # fmt: skip
        app.register_blueprint(api_module.blueprint)
    app.register_blueprint(failures.api_blueprint)
    app.register_blueprint(openapi.blueprint)
    app.register_blueprint(login.blueprint)
    app.register_blueprint(live.blueprint)
    for page_module in (pages, stock_pages, order_pages, count_pages, report_pages,
                        label_pages, failures, uplift_pages, site_pages,
                        site_report_pages):  # fmt: skip
        app.register_blueprint(page_module.blueprint)
    app.teardown_appcontext(_close_db)
    return app


def create_health_app(db_path: str, heartbeats: Heartbeats, workers_stale_s: float) -> Flask:
    """An ingest worker's own web server: /healthz and /livez only."""
    from hub.web import health

    app = Flask(__name__)
    app.config.update(DB_PATH=db_path, DB_POOL=None, HEARTBEATS=heartbeats,
                      WORKERS_STALE_S=workers_stale_s)
    app.register_blueprint(health.blueprint)
    app.teardown_appcontext(_close_db)
    return app


def db() -> Connection:
    """This request's connection to the ledger database."""
    from flask import current_app

    if "db" not in g:
        pool = current_app.config["DB_POOL"]
        g.db = store.connect(current_app.config["DB_PATH"]) if pool is None \
            else store.connect_pooled(pool)  # fmt: skip
    return g.db


def close_app(app: Flask) -> None:
    """Close what the app holds open beyond a request: its PostgreSQL connections."""
    if app.config["DB_POOL"] is not None:
        app.config["DB_POOL"].close()


def site_zone() -> tzinfo:
    """The site's time zone (`[web] timezone`)."""
    from flask import current_app

    return current_app.config["SITE_ZONE"]


def site_today() -> date:
    """The site's date now: its day starts at the site's midnight (hub.siteday)."""
    return siteday.today(site_zone())


def loop_states() -> list:
    """The hub's loops as its heartbeats last saw them (none without the hub)."""
    from flask import current_app

    heartbeats = current_app.config["HEARTBEATS"]
    return heartbeats.states() if heartbeats is not None else []


def site_overview() -> dict:
    """The overview as of now, its "today" the site's day."""
    from flask import current_app

    from hub.web.overview import overview

    config = current_app.config
    # A central hub sends and receives no transfer itself: its Sites page has them all.
    site = None if config["SITES"] else config["TOPICS"].site
    return overview(db(), config["CHANGES"].version, loop_states(), config["SITE_ZONE"],
                    workers_stale_s=config["WORKERS_STALE_S"], site=site)


def _close_db(_exc: BaseException | None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()

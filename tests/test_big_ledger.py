"""The big-site filler (scripts/lib/big_ledger.py, behind scripts/fill-big-db and bench 5):
a small fill keeps the invariants a real hub keeps, and every page and API call that
scripts/measure-pages measures answers 200 on it."""

import pytest

from hub import migrate_db, store
from hub.changes import ChangeFeed
from hub.check import check
from hub.web import close_app, create_app
from protocol.envelope import utc_now
from scripts import measure_pages
from scripts.lib import big_ledger
from tests import postgres
from tests.webapp import TOKEN, TOPICS, login

SIZE = big_ledger.Size(products=200, movements=4_000, scans=500)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "ledger.db"
    big_ledger.fill(path, SIZE, say=lambda _line: None)
    return path


def test_a_fill_keeps_the_ledger_invariants(filled):
    conn = store.connect(filled)
    try:
        report = check(conn)
        assert report.ok, report
        assert store.check_layers(conn) == []
        layers = conn.execute("SELECT sum(qty_left * unit_cost) FROM cost_layers").fetchone()[0]
        assert store.value_total(conn) == layers
        sizes = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("products", "movements", "orders", "counts", "purchase_orders")}
        assert sizes == {"products": 200, "movements": 4_000, "orders": 100, "counts": 200,
                         "purchase_orders": 2}  # fmt: skip
    finally:
        conn.close()


def test_a_fill_computes_the_stored_reports_for_today(filled):
    conn = store.connect(filled)
    try:
        today = utc_now().date().isoformat()
        for name in ("dead-stock", "surplus", "reorder"):
            assert store.report_run(conn, name)[0] == today
        assert conn.execute("SELECT count(*) FROM reorder_plans").fetchone()[0] == 200
        assert store.abc_computed(conn)[:10] == today
    finally:
        conn.close()


def test_a_second_fill_of_the_same_file_is_refused(filled):
    with pytest.raises(FileExistsError):
        big_ledger.fill(filled, SIZE)


def test_every_measured_route_answers_on_a_filled_ledger(filled):
    app = create_app(str(filled), TOPICS, [TOKEN], changes=ChangeFeed())
    assert failing_routes(app, samples_of(filled)) == []


@pytest.mark.hub
@pytest.mark.skipif(not postgres.enabled(), reason="a ledger moved to PostgreSQL (HUB_TEST_DB)")
def test_every_measured_route_answers_on_a_filled_ledger_moved_to_postgresql(filled, tmp_path):
    """scripts/measure-pages takes a PostgreSQL URL: its samples and routes work there."""
    url = postgres.ledger_target(tmp_path / "moved")
    assert migrate_db.migrate(filled, url).ok
    samples = samples_of(url)
    assert samples.skus[0].startswith("SKU-") and samples.orders[0].startswith("SO-")
    app = create_app(url, TOPICS, [TOKEN], changes=ChangeFeed(), data_dir=tmp_path)
    try:
        assert failing_routes(app, samples) == []
    finally:
        close_app(app)


def samples_of(target) -> measure_pages.Samples:
    """What scripts/measure-pages asks for on this ledger, with its admin user added."""
    conn = store.connect(target)
    try:
        measure_pages.ensure_user(conn, "admin", "pass-word")
        return measure_pages.Samples(conn)
    finally:
        conn.close()


def failing_routes(app, samples) -> list[tuple[str, int]]:
    """(label, status) of each measured route that did not answer 200."""
    page, api = app.test_client(), app.test_client()
    assert login(page, "admin").status_code == 302
    failed = []
    for label, kind, make in measure_pages.routes(samples):
        client = page if kind == "page" else api
        headers = {} if kind == "page" else {"Authorization": f"Bearer {TOKEN}"}
        status = client.get(make(), headers=headers).status_code
        if status != 200:
            failed.append((label, status))
    return failed

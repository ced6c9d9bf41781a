"""The demo, as a new user starts it: real broker, hub and stations; both stations pack,
receive and count, and every verdict the issue names reaches the hub's ledger."""

import json
import signal
import sqlite3
import ssl
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from kit.nginx import nginx_binary
from kit.ports import free_port, wait_for_port
from kit.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]

# What the stations judged at the scanner (scan events); the weight hold is in the shipment.
SCAN_VERDICTS = {
    "ok", "not_in_order", "too_many", "unknown_barcode", "expired_lot", "wrong_lot",
    "lot_required", "serial_required", "duplicate_serial", "over_receipt", "not_on_po",
    "serial_not_shipped", "not_in_kit",
}  # fmt: skip


SEED = 1604  # any: the tour's random choices are then the same on every run


@pytest.fixture(scope="module")
def toured(tmp_path_factory) -> Path:
    """The demo's tour, run once: it exits 0 only if every scan got the verdict it expected.
    Its workers' random choices are always the same ones (`--seed`)."""
    var = tmp_path_factory.mktemp("demo")
    run = subprocess.run(
        [sys.executable, "scripts/demo.py", "--tour", "--pace", "0", "--var", str(var),
         "--web-port", str(free_port()), "--seed", str(SEED)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "tour complete: every verdict seen" in run.stdout
    assert f"seed {SEED}: --seed {SEED} makes the same random choices again" in run.stdout
    assert "web:    http://127.0.0.1:" in run.stdout
    return var


def ledger(var: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(var / "hub" / "ledger.db") as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.slow
def test_every_verdict_of_packing_and_receiving_reaches_the_ledger(toured):
    seen = {v for (v,) in ledger(toured, "SELECT DISTINCT json_extract(data, '$.verdict') "
                                         "FROM events WHERE type = 'scan'")}  # fmt: skip
    assert seen >= SCAN_VERDICTS


@pytest.mark.slow
def test_both_stations_count_and_a_big_variance_waits_for_a_supervisor(toured):
    counted = ledger(toured, "SELECT DISTINCT station FROM events WHERE type = 'count'")
    assert sorted(counted) == [("dock-1",), ("pack-1",)]
    statuses = {s for (s,) in ledger(toured, "SELECT status FROM counts")}
    assert {"posted", "pending"} <= statuses


@pytest.mark.slow
def test_orders_ship_weighed_one_short_and_one_overridden(toured):
    shipments = ledger(toured, "SELECT json_extract(data, '$.weight_override'), "
                               "json_extract(data, '$.lines') FROM events "
                               "WHERE type = 'shipment'")  # fmt: skip
    assert len(shipments) >= 12
    assert any(override for override, _ in shipments)
    assert any('"short_reason":"damaged"' in lines for _, lines in shipments)
    assert ledger(toured, "SELECT count(*) FROM orders WHERE status = 'shipped'")[0][0] >= 10


@pytest.mark.slow
def test_the_demo_orders_carry_sale_prices_so_the_margin_kpis_fill_in(toured):
    revenue, cogs = ledger(toured, "SELECT (SELECT sum(revenue) FROM daily_sales), "
                                   "(SELECT sum(cogs) FROM daily_totals)")[0]  # fmt: skip
    assert revenue > cogs > 0
    picks, wrong = ledger(toured, "SELECT sum(picks), sum(wrong) FROM pick_stats")[0]
    assert picks > wrong > 0


@pytest.mark.slow
def test_receiving_closes_a_purchase_order_short(toured):
    closes = ledger(toured, "SELECT json_extract(data, '$.short') FROM events "
                            "WHERE type = 'po_close'")  # fmt: skip
    assert (1,) in closes


@pytest.mark.slow
def test_the_ledger_passes_the_hubs_own_check(toured):
    check = subprocess.run(
        [sys.executable, "-m", "hub", "check", "--config", str(toured / "hub.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
def test_the_dock_takes_returns_and_the_bench_builds_kits(toured):
    conditions = {c for (c,) in ledger(toured, "SELECT condition FROM return_lines")}
    assert {"resellable", "damaged"} <= conditions
    held = ledger(toured, "SELECT sum(b.qty) FROM balances b JOIN location_holds h "
                          "ON h.location = b.location")  # fmt: skip
    assert held[0][0] >= 1
    built = ledger(toured, "SELECT sku, sum(delta) FROM movements WHERE type = 'assembly' "
                           "AND delta > 0 GROUP BY sku")  # fmt: skip
    assert built and built[0][0] == "GIFT-MUG" and built[0][1] >= 1


def test_the_demo_keeps_its_secrets_configs_and_ledger_to_its_user(toured):
    # As the installed units do: passwords (secrets.json, *.toml), journals and the
    # ledger are 0600, their folders 0700.
    assert {"secrets.json", "hub.toml", "pack-1.toml"} <= {p.name for p in toured.iterdir()}
    assert (toured / "hub" / "ledger.db").exists()
    shared = [f"{path.relative_to(toured)} {stat.filemode(path.stat().st_mode)}"
              for path in [toured, *toured.rglob("*")]
              if not path.is_symlink() and (path.is_file() or path.is_dir())
              and path.stat().st_mode & 0o077]  # fmt: skip
    assert shared == []


@pytest.mark.slow
@pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed")
def test_the_demo_serves_https_when_asked(tmp_path):
    var, http_port, https_port = tmp_path / "demo", free_port(), free_port()
    demo = subprocess.Popen(
        [sys.executable, "scripts/demo.py", "--tls", "--pace", "5", "--var", str(var),
         "--web-port", str(http_port), "--https-port", str(https_port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(https_port, timeout=120)
        context = ssl.create_default_context(cafile=str(var / "tls" / "ca.crt"))
        with urllib.request.urlopen(f"https://localhost:{https_port}/login", context=context,
                                    timeout=20) as page:  # fmt: skip
            assert page.status == 200 and "Strict-Transport-Security" in page.headers
        plain = urllib.request.Request(f"http://127.0.0.1:{http_port}/login", method="HEAD")
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(plain, timeout=20)
        assert redirect.value.code == 301
        assert redirect.value.headers["Location"] == f"https://127.0.0.1:{https_port}/login"
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(60)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.slow
def test_the_demo_runs_a_company_whose_orders_are_routed_at_the_centre(tmp_path):
    """`--sites 2`: the central hub's address printed first, then each site's; the orders
    the sites' packers make go in at the centre, are routed, and ship at both sites."""
    web_port = free_port()
    out = (tmp_path / "out.txt").open("wb")
    demo = subprocess.Popen(
        [sys.executable, "scripts/demo.py", "--sites", "2", "--pace", "0.2", "--var",
         str(tmp_path / "var"), "--web-port", str(web_port)],
        cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(web_port, timeout=120)

        def centre(path: str) -> dict:
            request = urllib.request.Request(f"http://127.0.0.1:{web_port}{path}",
                                             headers={"Authorization": "Bearer demo"})  # fmt: skip
            with urllib.request.urlopen(request, timeout=20) as answer:
                return json.load(answer)

        def shipped_at_both() -> bool:
            rows = centre("/api/sites/orders?state=shipped&limit=500")["orders"]
            return {row["site"] for row in rows} == {"s1", "s2"}

        wait_until(shipped_at_both, 420, "orders entered at the centre shipped at both sites")
        # The centre's planner moves stock between the sites: packed at one site's bench,
        # in transit, received at the other's dock, each unit at the sender's cost.
        done = wait_until(lambda: centre("/api/transfers?status=received")["transfers"], 300,
                          "a transfer between the sites received")[-1]  # fmt: skip
        assert done["shipped"] and done["received"] and Decimal(done["value_shipped"]) > 0
        assert all(x["qty"] == x["shipped"] == x["received"] > 0 for x in done["lines"])
        name = f"transfer {done['transfer']} ({done['from_site']} -> {done['to_site']})"

        def told() -> str | None:
            text = (tmp_path / "out.txt").read_text()
            return text if f"centre: {name} received: " in text else None

        said = wait_until(told, 60, "the demo saying the transfer was received")
        assert f"centre: {name} in transit: " in said
        assert f"transfer {done['transfer']} to {done['to_site']} packed and weighed" in said
        assert f"transfer {done['transfer']} from {done['from_site']} at the door" in said
        sites = {row["site"]: row for row in centre("/api/sites")["sites"]}
        assert {row["link"] for row in sites.values()} == {"up"}
        assert all(row["applied"] > 0 for row in sites.values())
        kpis = centre("/api/sites/kpis")
        assert all(row["shipped"]["units"] > 0 for row in kpis["sites"])
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(60)
        out.close()
    printed = [line for line in (tmp_path / "out.txt").read_text().splitlines()
               if "http://127.0.0.1:" in line and "web:" in line or line.startswith("centre: http")]  # fmt: skip
    assert printed[0] == (f"centre: http://127.0.0.1:{web_port}/   (log in as supervisor / demo; "
                          "Sites shows each site, orders and reorder)")  # fmt: skip
    assert [line.split()[0] for line in printed[1:]] == ["s1", "s2"]



def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc's children lists of each of its threads)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        tasks = Path(f"/proc/{todo.pop()}/task")
        for task in tasks.iterdir() if tasks.exists() else ():
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except FileNotFoundError:
                continue
            todo += kids - found
            found |= kids
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie not yet reaped counts as dead)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_a_sigkilled_demo_takes_its_processes_along(tmp_path):
    """`kill -9` of the demo (it runs no clean-up then) leaves no broker, hub or station
    holding a port for the next demo."""
    web_port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "scripts/demo.py", "--pace", "5", "--var", str(tmp_path / "demo"),
         "--web-port", str(web_port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(web_port, timeout=120)
        spawned = wait_until(lambda: _descendants(demo.pid) if len(
            _descendants(demo.pid)) >= 4 else None, 60, "broker, hub and two stations")  # fmt: skip
    finally:
        demo.send_signal(signal.SIGKILL)
        demo.wait()
    wait_until(lambda: not any(_alive(pid) for pid in spawned), 30,
               "no process of the killed demo left")  # fmt: skip

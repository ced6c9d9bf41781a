"""The counts page: variances approved or rejected, open tasks, lines due for a count."""

import pytest

from hub import counts, store
from protocol.events import Count, Receipt
from tests.webapp import TOPICS, page_csrf

pytestmark = pytest.mark.hub


@pytest.fixture
def waiting(ledger):
    ledger.apply(Receipt(sku="MUG-1", qty=100, location="A-01"),
                 Count(sku="MUG-1", location="A-01", counted=3))  # fmt: skip
    pending = counts.variances_pending(ledger.conn, 10, 0)
    assert len(pending) == 1, "a variance of -97 should wait for approval"
    return pending[0]


def test_a_supervisor_approves_a_waiting_variance(as_role, ledger, waiting):
    client = as_role("supervisor")
    assert f'data-variance="{waiting["id"]}"' in client.get("/counts").text
    response = client.post(f"/counts/variances/{waiting['id']}/approve",
                           data={"csrf_token": page_csrf(client)})  # fmt: skip
    assert response.status_code == 302
    assert store.balance_get(ledger.conn, "MUG-1", "A-01") == 3


def test_a_rejected_variance_leaves_the_balance(as_role, ledger, waiting):
    client = as_role("supervisor")
    client.post(f"/counts/variances/{waiting['id']}/reject", data={"csrf_token": page_csrf(client)})
    assert store.balance_get(ledger.conn, "MUG-1", "A-01") == 100


def test_a_variance_decided_already_is_refused_with_the_reason(as_role, ledger, waiting):
    client = as_role("supervisor")
    path = f"/counts/variances/{waiting['id']}"
    client.post(f"{path}/approve", data={"csrf_token": page_csrf(client)})
    page = client.post(f"{path}/reject", data={"csrf_token": page_csrf(client)},
                       follow_redirects=True).text  # fmt: skip
    assert f"Variance {waiting['id']}: count {waiting['id']} is approved, not pending" in page
    assert store.balance_get(ledger.conn, "MUG-1", "A-01") == 3


def test_an_unknown_variance_is_refused(as_role, ledger):
    client = as_role("supervisor")
    page = client.post("/counts/variances/999/approve", data={"csrf_token": page_csrf(client)},
                       follow_redirects=True).text  # fmt: skip
    assert "no count 999" in page


def test_the_page_lists_open_tasks_and_the_lines_due_for_a_count(as_role, ledger):
    ledger.apply(Receipt(sku="MUG-1", qty=5, location="A-01"),
                 Receipt(sku="TEA-1", qty=5, location="B-02"))  # fmt: skip
    with store.transaction(ledger.conn):
        counts.issue_task(ledger.conn, TOPICS, "pack-1", "B-02", "TEA-1", None,
                          "2026-01-02T03:04:05+00:00")  # fmt: skip
    page = as_role("viewer").get("/counts").text
    tasks = page.split('id="count-tasks"')[1].split("</table>")[0]
    due = page.split('id="count-schedule"')[1].split("</table>")[0]
    assert "CT-000001" in tasks and "TEA-1" in tasks
    assert "MUG-1" in due and "never counted" in due and "TEA-1" not in due


def test_a_live_refresh_leaves_the_confirmation_to_the_page_redirected_to(as_role, waiting):
    # The open page's long poll answers as soon as the approval bumps the change feed, and
    # its refresh can reach the hub before the browser follows the redirect.
    client = as_role("supervisor")
    client.post(f"/counts/variances/{waiting['id']}/approve",
                data={"csrf_token": page_csrf(client)})  # fmt: skip
    assert "approved" not in client.get("/counts", headers={"X-Live": "1"}).text
    assert f"Variance {waiting['id']} approved." in client.get("/counts").text


def test_a_supervisor_sends_a_count_task_to_a_station(as_role, ledger):
    ledger.apply(Receipt(sku="MUG-1", qty=5, location="A-01"))  # pack-1 has reported
    client = as_role("supervisor")
    page = client.post("/counts/tasks", data={"csrf_token": page_csrf(client), "station": "pack-1",
                                              "location": "A-01", "sku": ""},
                       follow_redirects=True).text  # fmt: skip
    assert "Count task CT-000001 sent to pack-1" in page
    [task] = store.count_tasks(ledger.conn, None, "open")
    assert (task["station"], task["location"], task["sku"]) == ("pack-1", "A-01", None)
    retained = ledger.conn.execute("SELECT count(*) FROM outbox WHERE topic = ?",
                                   (TOPICS.count_task("pack-1", "CT-000001"),)).fetchone()
    assert retained == (1,)


@pytest.mark.parametrize(("station", "location", "reason"), [
    ("pack-9", "A-01", "no station &#39;pack-9&#39; has reported"),
    ("zz+probe", "A-01", "`station` &#39;zz+probe&#39; is not a station id"),
    ("pack-1", "A 01", "no location &#39;A 01&#39; is known"),
    ("pack-1", "B-07", "no location &#39;B-07&#39; is known"),
])  # fmt: skip
def test_a_count_task_for_nothing_known_is_refused_with_the_reason(as_role, ledger, station,
                                                                   location, reason):
    ledger.apply(Receipt(sku="MUG-1", qty=5, location="A-01"))
    client = as_role("supervisor")
    page = client.post("/counts/tasks", data={"csrf_token": page_csrf(client), "station": station,
                                              "location": location},
                       follow_redirects=True).text  # fmt: skip
    assert reason in page
    assert store.count_tasks(ledger.conn, None, None) == []


def test_a_full_count_is_started_from_the_page_and_shows_its_progress(as_role, ledger):
    from hub import catalog

    catalog.save_locations(ledger.conn, [catalog.Location(code=c) for c in ("A-01", "B-02")])
    ledger.apply(Receipt(sku="MUG-1", qty=5, location="A-01"))
    ledger.apply(Receipt(sku="TEA-1", qty=2, location="B-02"), station="dock-1")
    client = as_role("supervisor")
    response = client.post("/counts/full", data={"csrf_token": page_csrf(client),
                                                 "station": ["pack-1", "dock-1"]})  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"] == "/counts/full/FC-0001"
    tasks = store.count_tasks(ledger.conn, "FC-0001", None)
    assert sorted((t["station"], t["location"]) for t in tasks) == [("dock-1", "B-02"),
                                                                    ("pack-1", "A-01")]
    ledger.apply(Count(sku="MUG-1", location="A-01", counted=4, task=tasks[0]["task"]))
    page = client.get("/counts/full/FC-0001").text
    assert "1 still to count" in page and "B-02" in page and "-1" in page


def test_a_viewer_cannot_send_count_tasks(as_role, ledger):
    ledger.apply(Receipt(sku="MUG-1", qty=5, location="A-01"))
    client = as_role("viewer")
    assert 'id="issue-task"' not in client.get("/counts").text
    response = client.post("/counts/full", data={"csrf_token": page_csrf(client),
                                                 "station": "pack-1"})  # fmt: skip
    assert response.status_code == 403

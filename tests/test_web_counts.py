"""The counts page: variances approved or rejected, open tasks, lines due for a count."""

import pytest

from hub import counts, store
from protocol.events import Count, Receipt
from tests.webapp import TOPICS, page_csrf


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

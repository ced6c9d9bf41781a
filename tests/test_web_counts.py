"""Count variances approved or rejected from the page (needs the domain's hub.counts)."""

import pytest

from hub import store
from protocol.events import Count, Receipt
from tests.webapp import page_csrf

counts = pytest.importorskip("hub.counts", reason="the domain's hub.counts is not merged yet")


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

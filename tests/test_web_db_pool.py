"""On PostgreSQL the web's requests share pooled connections: a PostgreSQL restart breaks
every one of them, and the pages answer again afterwards without a hub restart."""

import pytest

from tests import postgres
from tests.webapp import TOKEN

pytestmark = [
    pytest.mark.hub,
    pytest.mark.skipif(not postgres.enabled(), reason="the pool is PostgreSQL's (HUB_TEST_DB)"),
]
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def test_after_a_postgresql_restart_the_pages_answer_again(app, ledger, postgres_cluster):
    client = app.test_client()
    for _ in range(3):  # connections into the pool
        assert client.get("/api/stock", headers=BEARER).status_code == 200
    ledger.conn.close()
    postgres_cluster.restart()
    for _ in range(3):
        assert client.get("/api/stock", headers=BEARER).status_code == 200

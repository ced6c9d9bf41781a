"""Schemathesis against the real hub: `python -m hub run` with its broker, its HTTP server
on loopback and an API token, fuzzed from the hub's own OpenAPI document.

Every operation gets schema-valid requests; the run fails on any 5xx, on an answer (status,
content type, body) the document does not declare, and on a schema-valid request refused
as malformed (400). 404 (the path names nothing), 409 (state) and 422 (a rule the document
cannot express, such as a SKU that must exist) are refusals a valid request may get.
Bounded: 25 examples per operation, about a minute on two cores; drawing them is most of
that (Hypothesis building request bodies), not the hub. On PostgreSQL 10: the requests meet
the same validation code as on SQLite, and what that pass is there for, the store under
each handler, every accepted example reaches.

That every operation the document secures refuses a request without a valid token is
checked once per operation (`test_every_secured_operation_refuses_...`), not by
schemathesis' `ignored_auth` after every generated request: authentication is the
route's, whatever the request holds, and that check sent a second request per example
(a quarter of this module's time).
"""

import re
import urllib.error
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from tests import postgres
from tests.broker import start_broker
from tests.conftest import PASSWORDS
from tests.harness import TOKEN, Hub

pytestmark = [pytest.mark.slow, pytest.mark.hub]

EXAMPLES = 10 if postgres.enabled() else 25
ACCEPTED = ["2xx", "401", "403", "404", "409", "422"]


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory):
    root = tmp_path_factory.mktemp("api-contract")
    broker = start_broker(root / "broker", {"hub": (PASSWORDS["hub"], "hub")})
    hub = Hub(root / "hub", broker, PASSWORDS["hub"]).start()
    # Something for the fuzzer to find beside what it invents.
    hub.api("POST", "/api/locations", [{"code": "A-01"}, {"code": "B-01"}])
    hub.api("POST", "/api/suppliers", {"supplier": "acme", "name": "Acme"})
    hub.api("POST", "/api/products", {"sku": "MUG-1", "name": "Mug", "unit_cost": "2.50",
                                      "suppliers": [{"supplier": "acme"}]})  # fmt: skip
    hub.api("POST", "/api/orders", {"order": "SO-1", "lines": [{"sku": "MUG-1", "qty": 2}]})
    hub.api("POST", "/api/purchase-orders", {"po": "PO-1", "supplier": "acme",
                                             "lines": [{"sku": "MUG-1", "qty": 5}]})  # fmt: skip
    yield hub
    hub.stop()
    broker.stop()


@pytest.fixture(scope="module")
def api_schema(live_hub):
    checks = {"positive_data_acceptance": {"expected-statuses": ACCEPTED},
              "ignored_auth": {"enabled": False}}  # fmt: skip
    config = SchemathesisConfig.from_dict({"checks": checks})
    return schemathesis.openapi.from_url(live_hub.url + "/api/openapi.json", config=config)


def _fuzz(operation, token: str) -> None:
    """One operation's examples; Hypothesis shrinks a failure to its simplest request."""

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

    run()


def test_every_operation_answers_as_its_document_says(api_schema, live_hub):
    # One test over every operation rather than schemathesis' pytest plugin, whose
    # parametrisation does not run under pytest 9; each operation is reported on its own.
    failures, tried = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        tried += 1
        try:
            _fuzz(operation, TOKEN)
        except (Exception, FailureGroup) as exc:  # every operation's failure is reported
            failures.append(f"{operation.label}: {exc}")
    assert tried >= 60
    assert live_hub.proc.running, live_hub.proc.log()
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def _status(method: str, url: str, headers: dict[str, str]) -> int:
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/json", **headers})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code


def test_every_secured_operation_refuses_a_request_without_a_valid_token(live_hub):
    """Each operation the document secures, with no credentials and with a wrong token:
    401, whatever its parameters (every path parameter 1: a valid integer or text)."""
    document = live_hub.api("GET", "/api/openapi.json")
    secured, wrong = 0, []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if operation.get("security") == []:
                continue
            secured += 1
            url = live_hub.url + re.sub(r"\{\w+\}", "1", path)
            for headers in ({}, {"Authorization": "Bearer not-a-token"}):
                status = _status(method.upper(), url, headers)
                if status != 401:
                    wrong.append(f"{method.upper()} {path} {headers or 'no token'}: {status}")
    assert secured >= 60
    assert not wrong, "\n".join(wrong)

"""Schemathesis against the real hub: `python -m hub run` with its broker, its HTTP server
on loopback and an API token, fuzzed from the hub's own OpenAPI document.

Every operation gets schema-valid requests; the run fails on any 5xx, on an answer (status,
content type, body) the document does not declare, and on a schema-valid request refused
as malformed (400). 404 (the path names nothing), 409 (state) and 422 (a rule the document
cannot express, such as a SKU that must exist) are refusals a valid request may get.
Bounded: a few dozen examples per operation, about a minute on two cores.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from tests.broker import start_broker
from tests.conftest import PASSWORDS
from tests.harness import TOKEN, Hub

pytestmark = [pytest.mark.slow, pytest.mark.hub]

EXAMPLES = 25
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
    config = SchemathesisConfig.from_dict(
        {"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}}
    )
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

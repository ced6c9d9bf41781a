"""The OpenAPI document is built from the registered routes and documents every one."""

import pytest

from hub.web import contract
from hub.web.openapi import operations
from tests.webapp import TOKEN

pytestmark = pytest.mark.hub


def test_every_api_route_is_documented(app):
    undocumented = [(m, r) for m, r, doc, _ in operations(app) if not doc.strip()]
    assert undocumented == []


def test_the_document_lists_every_api_route_and_method(app):
    doc = app.test_client().get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    listed = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    expected = {(m, r.replace("<", "{").replace(">", "}")) for m, r, _, _ in operations(app)}
    assert listed == expected
    assert ("POST", "/api/stations/{station}/commands/{name}") in listed


def test_path_parameters_are_declared(app):
    doc = app.test_client().get("/api/openapi.json").json
    operation = doc["paths"]["/api/stations/{station}/commands/{name}"]["post"]
    assert {p["name"] for p in operation["parameters"]} == {"station", "name"}
    assert operation["x-required-role"] == "supervisor"


def test_every_api_route_declares_its_contract(app):
    """The contract is what validates the request and what the document describes."""
    undeclared = [(m, r) for m, r, _, view in operations(app) if contract.of(view) is None]
    assert undeclared == []


def test_parameters_bodies_and_answers_come_from_the_contracts(app):
    doc = app.test_client().get("/api/openapi.json").json
    approve = doc["paths"]["/api/counts/{count_id}/approve"]["post"]
    [count_id] = approve["parameters"]
    assert count_id["in"] == "path" and count_id["schema"]["maximum"] == 2**63 - 1
    assert set(approve["responses"]) == {"201", "400", "401", "403", "404", "409", "413", "422"}
    orders = doc["paths"]["/api/orders"]["get"]
    status = next(p for p in orders["parameters"] if p["name"] == "status")
    assert status["in"] == "query" and "shipped" in str(status["schema"])
    limit = next(p for p in orders["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 1000)
    body = doc["paths"]["/api/products"]["post"]["requestBody"]["content"]["application/json"]
    product = doc["components"]["schemas"]["ProductRecord"]["properties"]
    assert "ProductRecord" in str(body["schema"])
    assert product["unit_cost"]["anyOf"][0]["pattern"] == r"^[0-9]{1,5}(\.[0-9]{1,6})?$"
    saved = doc["paths"]["/api/products"]["post"]["responses"]["201"]["content"]
    assert "Saved" in str(saved["application/json"]["schema"])
    csv_import = doc["paths"]["/api/products.csv"]["post"]
    assert "text/csv" in csv_import["requestBody"]["content"]
    assert "rows" in str(csv_import["responses"]["422"])
    assert {"200", "201"} <= set(csv_import["responses"])  # a dry run, an import


def test_the_answers_the_api_gives_are_the_ones_it_documents(app, ledger):
    """A dry run (200), an import (201), bad rows (422), an unknown path (404)."""
    client = app.test_client()
    doc = client.get("/api/openapi.json").json
    bearer = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"}
    calls = [("/api/locations.csv?dry_run=1", "code\nA-1\n"),
             ("/api/locations.csv", "code\nA-1\n"), ("/api/locations.csv", "code\nnot ok\n")]
    declared = doc["paths"]["/api/locations.csv"]["post"]["responses"]
    for path, text in calls:
        status = client.post(path, data=text, headers=bearer).status_code
        assert str(status) in declared, (path, status)


def test_a_request_the_document_refuses_is_refused_by_the_same_declaration(app):
    """A limit changed in protocol/limits.py moves the document and the check together."""
    client = app.test_client()
    doc = client.get("/api/openapi.json").json
    task = doc["components"]["schemas"]["CountTaskIn"]["properties"]["station"]
    response = client.post("/api/count-tasks", json={"station": "zz+probe", "location": "A"},
                           headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert response.status_code == 400 and task["pattern"] in response.json["error"]

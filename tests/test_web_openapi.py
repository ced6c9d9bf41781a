"""The OpenAPI document is built from the registered routes and documents every one."""

from hub.web.openapi import operations


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

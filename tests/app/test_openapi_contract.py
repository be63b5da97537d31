"""The OpenAPI document is a contract clients are generated from: what a generator needs is there."""

from __future__ import annotations

import re

METHODS = ("get", "post", "put", "patch", "delete")


def _operations(spec):
    return [(path, method, operation) for path, operations in spec["paths"].items()
            for method, operation in operations.items() if method in METHODS]


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_the_error_schema_is_the_body_every_error_has(client):
    spec = client.get("/openapi.json").get_json()
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["code"]["type"] == "string"
    assert error["properties"]["status"]["type"] == "integer"
    assert set(error["required"]) == {"code", "status", "message"}
    body = client.get("/api/v1/citizens/lookup").get_json()  # a 405, as every error: same shape
    assert set(body) >= {"code", "status", "message"} and isinstance(body["status"], int)


def test_every_operation_has_a_unique_meaningful_operation_id(client):
    spec = client.get("/openapi.json").get_json()
    ids = [operation.get("operationId") for _, _, operation in _operations(spec)]
    assert None not in ids and len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", operation_id) for operation_id in ids), ids


def test_title_version_enums_and_documented_answers(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["info"]["title"].isascii()
    assert re.fullmatch(r"\d+\.\d+\.\d+", spec["info"]["version"])
    assert not [node for node in _walk(spec) if isinstance(node.get("enum"), list) and None in node["enum"]]
    for path, method in [("/healthz", "get"), ("/readyz", "get"), ("/.well-known/jwks.json", "get"),
                         ("/wechat/callback", "post"), ("/wechat/callback", "get")]:
        assert "200" in spec["paths"][path][method]["responses"], (path, method)
    for path, method, operation in _operations(spec):
        if operation.get("security"):
            assert {"401", "403", "429"} <= set(operation["responses"]), (path, method)
        if "{" in path:
            assert "404" in operation["responses"], (path, method)


def test_bodies_without_a_marshmallow_view_are_documented_and_match(app, client):
    """Health checks and the public keys answer JSON a generated client must be able to type (issue 22, defect 3):
    each documents its 200 body, and the body sent matches it."""
    import schemathesis
    from schemathesis.specs.openapi.checks import response_schema_conformance

    spec = client.get("/openapi.json").get_json()
    document = schemathesis.openapi.from_dict(spec)
    for path in ("/.well-known/jwks.json", "/partner/v1/jwks.json", "/healthz", "/readyz"):
        answer = spec["paths"][path]["get"]["responses"]["200"]
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        assert schema, (path, answer)
        resolved = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema
        assert resolved.get("properties") and resolved.get("required"), (path, resolved)
        case = document[path]["GET"].Case()
        response = case.call(app=app)
        assert response.status_code == 200, (path, response.text[:200])
        case.validate_response(response, checks=[response_schema_conformance])

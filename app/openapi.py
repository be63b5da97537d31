"""The OpenAPI document as a contract clients are generated from.

flask-smorest documents what the decorators say; this module adds, once for every operation, what holds for all of
them:

- the real error body ``{code: string, status: integer, message, errors?}`` as the ``Error`` schema (flask-smorest's
  default has ``code`` an integer and ``status`` a string);
- a stable ``operationId`` made from the view's endpoint (``citizens_lookup``), which generated clients name their
  functions after;
- the error answers where they happen: 401 and 403 on operations that need credentials, 404 where the path names
  something, 409 where a write can meet a conflicting state, 429 where a caller can be slowed down; and a 200 on
  operations that answer without a marshmallow schema (health checks, JWKS, the WeChat callback);
- ``required`` on every field of a response schema (marshmallow dumps every declared field) except those marked
  ``MAY_BE_ABSENT`` (left out of some answers, as the fuzz test's conformance check shows), no ``null`` inside an
  ``enum`` (``nullable`` says it), an ASCII title and a semver version (from the config).
"""

from __future__ import annotations

from apispec import BasePlugin
from flask import current_app, json
from flask_smorest import Api
from marshmallow import Schema, fields

ERROR_RESPONSES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
                   429: "TOO_MANY_REQUESTS"}
_WRITES = ("post", "put", "patch", "delete")
# Field metadata for a response field that some answers leave out: ``metadata={MAY_BE_ABSENT: True}``.
MAY_BE_ABSENT = "x-may-be-absent"
_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
# Operations anyone may call that are still rate limited (logins, the partner handshake).
_LIMITED_WITHOUT_CREDENTIALS = ("/api/v1/auth/", "/mp/v1/session", "/zlb/v1/session", "/partner/v1/")


class ErrorSchema(Schema):
    code = fields.String(required=True, metadata={"description": "稳定的错误代码（如 validation_error），供程序判断"})
    status = fields.Integer(required=True, metadata={"description": "HTTP 状态码"})
    message = fields.String(required=True, metadata={"description": "可直接展示给用户的中文说明"})
    errors = fields.Raw(metadata={"description": "逐项的错误说明（如 422 时每个字段的提示）"})


class ContractPlugin(BasePlugin):
    """Adds operationIds and the error answers to each operation as flask-smorest registers its path."""

    def operation_helper(self, path=None, operations=None, rule=None, **kwargs):
        if rule is None or not operations:
            return
        methods = [method for method in operations if method in _METHODS]
        endpoint = rule.endpoint.replace(".", "_").replace("-", "_")
        for method in methods:
            operation = operations[method]
            operation.setdefault("operationId", endpoint if len(methods) == 1 else f"{endpoint}_{method}")
            responses = operation.setdefault("responses", {})
            if not any(str(code).startswith("2") for code in responses):
                responses["200"] = {"description": "OK"}
            for status in _statuses(path or rule.rule, method, bool(operation.get("security"))):
                responses.setdefault(str(status), ERROR_RESPONSES[status])


def _statuses(path: str, method: str, secured: bool) -> list[int]:
    statuses = []
    if secured:
        statuses += [401, 403]
    if "{" in path or "<" in path:
        statuses.append(404)
    if method in _WRITES and secured:
        statuses.append(409)
    if secured or path.startswith(_LIMITED_WITHOUT_CREDENTIALS):
        statuses.append(429)
    return statuses


class CityApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app=None, **kwargs):
        kwargs.setdefault("spec_kwargs", {"extra_plugins": [ContractPlugin()]})
        super().__init__(app, **kwargs)

    def _openapi_json(self):
        return current_app.response_class(json.dumps(finish(self.spec.to_dict()), indent=2, sort_keys=False),
                                          mimetype="application/json")


def finish(document: dict) -> dict:
    """What can only be said of the whole document: required response fields, enums without null."""
    schemas = document.get("components", {}).get("schemas", {})
    for name in _response_only(document, schemas):
        schema = schemas[name]
        if "required" not in schema and schema.get("properties"):
            schema["required"] = [key for key, prop in schema["properties"].items()
                                  if not prop.get("writeOnly") and not prop.get(MAY_BE_ABSENT)]
    for schema in schemas.values():
        for prop in schema.get("properties", {}).values():
            prop.pop(MAY_BE_ABSENT, None)
    _strip_null_from_enums(document)
    return document


def _refs(node) -> set[str]:
    found = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _closure(names: set[str], schemas: dict) -> set[str]:
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(_refs(schemas[name]))
    return seen


def _response_only(document: dict, schemas: dict) -> set[str]:
    requests, responses = set(), set()
    component_responses = document.get("components", {}).get("responses", {})
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            requests |= _refs(operation.get("requestBody")) | _refs(operation.get("parameters"))
            for response in operation.get("responses", {}).values():
                if isinstance(response, dict) and "$ref" in response:
                    response = component_responses.get(response["$ref"].rsplit("/", 1)[1], {})
                responses |= _refs(response)
    return _closure(responses, schemas) - _closure(requests, schemas) - {"Error"}


def _strip_null_from_enums(node) -> None:
    if isinstance(node, dict):
        enum = node.get("enum")
        if isinstance(enum, list) and None in enum:
            node["enum"] = [value for value in enum if value is not None]
            node["nullable"] = True
        for value in node.values():
            _strip_null_from_enums(value)
    elif isinstance(node, list):
        for value in node:
            _strip_null_from_enums(value)

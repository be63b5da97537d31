"""Every operation the 浙里办 H5 calls (its one endpoint table, zlb/src/endpoints.json) exists in the served
/openapi.json with that method, and none has a path parameter: 浙里办's gateway forwards none."""

from __future__ import annotations

import json

from app.config import PROJECT_ROOT

TABLE = PROJECT_ROOT / "zlb" / "src" / "endpoints.json"


def test_every_call_of_the_h5_is_documented_and_has_no_path_parameter(client):
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    spec = client.get("/openapi.json").get_json()
    assert table, "the H5's endpoint table is empty"
    missing, with_path_parameters = [], []
    for name, endpoint in table.items():
        method, path = endpoint["method"].lower(), endpoint["path"]
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:
            missing.append(f"{name}: {endpoint['method']} {path}")
            continue
        parameters = [*spec["paths"][path].get("parameters", []), *operation.get("parameters", [])]
        if "{" in path or any(p.get("in") == "path" for p in parameters):
            with_path_parameters.append(f"{name}: {path}")
    assert not missing, f"not in /openapi.json: {missing}"
    assert not with_path_parameters, f"path parameters (the gateway drops them): {with_path_parameters}"


def test_the_h5_talks_to_the_api_only_through_the_table():
    # One module talks to the API: no page builds a URL of its own.
    sources = [p for p in (PROJECT_ROOT / "zlb" / "src").rglob("*") if p.suffix in (".vue", ".js")]
    offenders = [str(p.relative_to(PROJECT_ROOT)) for p in sources
                 if p.name != "api.js" and ("/zlb/v1" in p.read_text(encoding="utf-8")
                                            or "fetch(" in p.read_text(encoding="utf-8"))]
    assert not offenders, offenders

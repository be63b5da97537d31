"""A fixed path is not taken for a value of a neighbouring path's variable: the Allow header of every fixed path lists
only its own methods (``/records/batch`` is not a record called "batch" that could be PATCHed)."""

from __future__ import annotations


def test_allow_lists_only_the_methods_of_the_path_itself(app, client):
    static = {}
    for rule in app.url_map.iter_rules():
        if not rule.arguments and not rule.rule.startswith("/docs"):
            static.setdefault(rule.rule, set()).update(rule.methods)
    wrong = {}
    for path, methods in static.items():
        response = client.open(path, method="OPTIONS")
        allowed = {method.strip() for method in response.headers.get("Allow", "").split(",") if method.strip()}
        if allowed != methods | {"OPTIONS"}:
            wrong[path] = sorted(allowed - methods - {"OPTIONS"})
    assert wrong == {}


def test_the_reported_paths(client):
    for path in ("/api/v1/records/batch", "/api/v1/partners/reconciliations"):
        response = client.open(path, method="PUT")
        assert response.status_code == 405
        assert "PATCH" not in response.headers["Allow"], (path, response.headers["Allow"])


def test_a_malformed_reference_is_still_a_coded_404(app, client):
    from tests.factories import staff_headers

    with app.app_context():
        headers = staff_headers(client)
    response = client.get("/api/v1/partners/not-a-city", headers=headers)
    assert response.status_code == 404 and response.get_json()["code"]

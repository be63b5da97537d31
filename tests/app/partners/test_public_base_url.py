"""/partner/v1/info names our URLs from the configured public base URL, never from the caller's Host header."""

from __future__ import annotations


def test_a_forged_host_header_is_not_reflected(twin_app):
    city = twin_app(PUBLIC_BASE_URL="https://credit.sx.example/")
    info = city.test_client().get("/partner/v1/info", headers={"Host": "evil.example"}).get_json()
    assert info["jwks_url"] == "https://credit.sx.example/.well-known/jwks.json"
    assert info["api_base_url"] == "https://credit.sx.example/partner/v1"
    assert "evil" not in str(info)


def test_behind_a_trusted_proxy_the_forwarded_scheme_counts(twin_app):
    city = twin_app(TRUSTED_PROXY_HOPS=1)
    response = city.test_client().get("/partner/v1/info", headers={"X-Forwarded-Proto": "https"},
                                      base_url="http://credit.sx.example")
    assert response.get_json()["jwks_url"] == "https://credit.sx.example/.well-known/jwks.json"


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(twin_app):
    city = twin_app()
    response = city.test_client().get("/partner/v1/info", headers={"X-Forwarded-Proto": "https",
                                                                   "X-Forwarded-For": "6.6.6.6"},
                                      base_url="http://credit.sx.example")
    assert response.get_json()["jwks_url"] == "http://credit.sx.example/.well-known/jwks.json"

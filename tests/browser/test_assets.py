"""The front-end libraries come from node_modules through the app, and load in a real browser with no internet."""


def test_vendor_assets_are_served_by_the_app(client):
    for name in ("echarts.min.js", "htmx.min.js", "zxing-browser.min.js"):
        response = client.get(f"/assets/vendor/{name}")
        assert response.status_code == 200, name
        assert len(response.data) > 10_000
        response.close()
    assert client.get("/assets/vendor/package.json").status_code == 404


def test_missing_npm_ci_is_a_clear_error(app, tmp_path):
    app.config["NODE_MODULES_DIR"] = str(tmp_path / "node_modules")
    try:
        response = app.test_client().get("/assets/vendor/echarts.min.js")
    finally:
        app.config.pop("NODE_MODULES_DIR")
    assert response.status_code == 503
    assert "npm ci" in response.get_data(as_text=True)


def test_libraries_load_in_chromium(live_server, page):
    page.goto(f"{live_server.url}/assets/vendor/echarts.min.js")
    page.set_content(
        f'<script src="{live_server.url}/assets/vendor/echarts.min.js"></script>'
        f'<script src="{live_server.url}/assets/vendor/htmx.min.js"></script>'
        f'<script src="{live_server.url}/assets/vendor/zxing-browser.min.js"></script>'
    )
    page.wait_for_function("window.echarts && window.htmx && window.ZXingBrowser")
    assert page.evaluate("typeof echarts.init") == "function"
    assert page.evaluate("typeof ZXingBrowser.BrowserQRCodeReader") == "function"

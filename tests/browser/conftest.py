"""Browser tests: the session's app served by a real WSGI server thread, driven by Playwright in system Chromium.

Fixtures:
- ``live_server``: the app on a free port of 127.0.0.1 (``live_server.url``), same database as ``app``.
- ``launch_chromium(*extra_args)``: a Chromium Browser with the standard headless flags plus ``extra_args``
  (e.g. the fake camera flags of the cashier's tests); closed at the end of the test.
- ``browser``: a shared default Chromium for the session; ``page``: a new page at 1366x768 in zh-CN.
- ``screenshot(page, name)``: saves ``tests/browser/screenshots/<name>.png`` (or under $SCREENSHOTS_DIR) and
  returns the path, so a person can look at the pages.

Everything here SKIPS with a reason when Playwright or /usr/bin/chromium is missing (a bare machine);
``.ci/run`` installs Debian's chromium and fonts-noto-cjk.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS_DIR = Path(os.environ.get("SCREENSHOTS_DIR") or Path(__file__).parent / "screenshots")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk; .ci/run does it)"
    if not (Path(__file__).parents[2] / "node_modules").is_dir():
        return "front-end libraries are not installed: run `npm ci` (the README's install command does)"
    return None


@pytest.fixture(scope="session")
def live_server(app):
    """Serves ``app`` (the session app, same database) with a threaded werkzeug server on a free port."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        # The app's access log already has one line per request.
        def log_request(self, code="-", size="-"):
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()

    class Live:
        url = f"http://127.0.0.1:{server.server_port}"
        port = server.server_port

    yield Live
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def _playwright():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


def _launch(pw, extra_args=()):
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args])


@pytest.fixture(scope="session")
def browser(_playwright):
    browser = _launch(_playwright)
    yield browser
    browser.close()


@pytest.fixture
def launch_chromium(_playwright):
    """launch_chromium("--use-fake-ui-for-media-stream", ...) -> a Browser closed after the test."""
    launched = []

    def launch(*extra_args):
        browser = _launch(_playwright, extra_args)
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()


@pytest.fixture
def new_context(browser):
    """new_context(**kwargs) -> a BrowserContext (1366x768, zh-CN) closed after the test."""
    contexts = []

    def make(**kwargs):
        context = browser.new_context(**{"viewport": VIEWPORT, "locale": "zh-CN", **kwargs})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


@pytest.fixture
def screenshot():
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, full_page: bool = True) -> Path:
        path = SCREENSHOTS_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take

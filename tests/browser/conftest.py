import os
import threading

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

# On a loaded CI machine (2 cores, the suite in 2 workers) an HTMX answer can take longer than
# Playwright's 5 s default for `expect`: the same 10 s as the pages' own default timeout.
expect.set_options(timeout=10_000)

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: run `bash .ci/setup --browser` (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def _track_requests(live_server) -> threading.Condition:
    """Count the live server's requests in flight (its request threads are daemons, which
    socketserver does not keep): a test ends only when the server has answered them all."""
    httpd = live_server.thread.httpd
    if not hasattr(httpd, "in_flight"):
        httpd.in_flight, httpd.in_flight_changed = 0, threading.Condition()
        handle = httpd.process_request_thread

        def counted(request, client_address):
            with httpd.in_flight_changed:
                httpd.in_flight += 1
            try:
                handle(request, client_address)
            finally:
                with httpd.in_flight_changed:
                    httpd.in_flight -= 1
                    httpd.in_flight_changed.notify_all()

        httpd.process_request_thread = counted
    return httpd


@pytest.fixture(autouse=True)
def _settled(request):
    """At the end of a browser test, before the database is flushed: close every browser context
    the test left open (a page still polling, a tab still loading its lazy panels) and wait for
    the live server to finish what it is answering. Otherwise a request thread still inside the
    database when the flush starts fails the flush, and the next test finds the last one's rows."""
    httpd = _track_requests(request.getfixturevalue("live_server")) if "live_server" in request.fixturenames else None
    yield
    if "browser" in request.fixturenames:
        for context in list(request.getfixturevalue("browser").contexts):
            context.close()
    if httpd is not None:
        with httpd.in_flight_changed:
            httpd.in_flight_changed.wait_for(lambda: httpd.in_flight == 0, timeout=30)


@pytest.fixture
def page(browser, live_server, settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page, username: str, password: str = "pw-12345!"):
    # Wait until the sign-in has answered (the session cookie set) before the test navigates on: a
    # goto right after the click can abort the POST. On a loaded CI machine the answer can take a
    # while (or the click land before the page is ready): one more try with a fresh form.
    for attempt in range(2):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        try:
            page.wait_for_url(lambda url: "/accounts/login/" not in url, timeout=20_000)
            return
        except PlaywrightTimeoutError:
            if attempt:
                raise


def send_reply(page, text: str, *, within=None) -> None:
    """Type `text` in the case page's composer and press Send, then wait for the reply's own answer
    (up to 30 s: on a loaded CI machine the live server, one process, may still be answering the
    page's lazy panels) and require it to be a 200 — a refused or failed reply fails here, with its
    status and the start of its body, instead of as a timeline that never shows it."""
    scope = within or page.locator("#composer")
    page.wait_for_load_state("networkidle", timeout=30_000)
    scope.locator("textarea[name=body]").fill(text)
    with page.expect_response(
        lambda r: r.url.endswith("/reply/") and r.request.method == "POST", timeout=30_000
    ) as answer:
        scope.get_by_role("button", name="Send").click()
    response = answer.value
    assert response.status == 200, f"the reply answered {response.status}: {response.text()[:300]}"

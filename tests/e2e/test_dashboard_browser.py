"""The dashboard in a real browser (Debian's Chromium, driven by Playwright): sign in with an API
key, and the charts and logs show the requests this test made from two apps.

A screenshot is saved as a test artifact in ``$TOLLGATE_TEST_ARTIFACTS`` (default
``test-artifacts/`` at the repository root).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from playwright.sync_api import sync_playwright
from tollgate_cli.stack import Stack

from tests.support import REPO
from tests.support.upstreams import Upstream

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium): browser test skipped",
)
APPS = {"Dashboard App One": 3, "Dashboard App Two": 2}


def artifacts() -> Path:
    path = Path(os.environ.get("TOLLGATE_TEST_ARTIFACTS", REPO / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def traffic(stack: Stack, upstream: Upstream) -> dict[str, list[str]]:
    """Requests from two apps (``x-title``), as a user's applications would make them."""
    upstream.reset()
    made: dict[str, list[str]] = {}
    for title, count in APPS.items():
        client = openai.OpenAI(
            base_url=stack.base_url,
            api_key=stack.bootstrap_key(),
            max_retries=0,
            default_headers={"x-title": title, "http-referer": "https://apps.example"},
        )
        made[title] = [
            client.chat.completions.create(
                model="openai/gpt-4o-mini", messages=[{"role": "user", "content": f"hi {i}"}]
            ).id
            for i in range(count)
        ]
    # The request log is filled from usage facts, asynchronously.
    wanted = {g for ids in made.values() for g in ids}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reply = httpx.get(
            f"{stack.base_url}/requests",
            params={"limit": 200},
            headers={"Authorization": f"Bearer {stack.bootstrap_key()}"},
        )
        if reply.status_code == 200 and wanted <= {r["generationId"] for r in reply.json()["data"]}:
            break
        time.sleep(0.2)
    return made


@pytest.fixture
def page(stack: Stack) -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1800})
            yield context.new_page()
        finally:
            browser.close()


def origin(stack: Stack) -> str:
    return stack.base_url.removesuffix("/v1")


def sign_in(page: Any, stack: Stack, key: str) -> None:
    page.goto(f"{origin(stack)}/dashboard")
    page.fill("#api-key", key)
    page.click("#sign-in-form button")
    # A selector, not a JS predicate: the page's CSP forbids the eval a predicate needs.
    page.wait_for_selector('body[data-state="loaded"], body[data-state="signed-out"]')


def chart_total(page: Any, name: str) -> float:
    return float(
        page.evaluate(
            """(name) => window.tollgate.charts[name].data.datasets
                .reduce((sum, d) => sum + d.data.reduce((a, v) => a + (Number(v) || 0), 0), 0)""",
            name,
        )
    )


def test_the_dashboard_shows_the_requests_of_both_apps(
    stack: Stack, traffic: dict[str, list[str]], page: Any
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    sign_in(page, stack, stack.bootstrap_key())

    assert page.evaluate("document.body.dataset.state") == "loaded"
    assert chart_total(page, "requests") >= sum(APPS.values())
    assert chart_total(page, "tokens") > 0
    assert chart_total(page, "spend") > 0
    assert chart_total(page, "ttft") > 0
    log = page.inner_text("#requests tbody")
    for title in APPS:
        assert title in log
    assert "$" in page.inner_text("#balance")
    page.screenshot(path=str(artifacts() / "dashboard.png"), full_page=True)
    assert errors == []


def test_a_wrong_key_is_refused_and_nothing_is_shown(stack: Stack, page: Any) -> None:
    sign_in(page, stack, "tg_not_a_real_key")

    assert page.evaluate("document.body.dataset.state") == "signed-out"
    assert "not accepted" in page.inner_text("#sign-in-error")
    assert page.is_hidden("#main")


def test_the_page_itself_needs_no_key_but_serves_no_data(stack: Stack) -> None:
    page_reply = httpx.get(f"{origin(stack)}/dashboard")
    library = httpx.get(f"{origin(stack)}/dashboard/vendor/chart.umd.min.js")
    data = httpx.get(f"{stack.base_url}/requests")

    assert page_reply.status_code == 200
    assert "default-src 'self'" in page_reply.headers["content-security-policy"]
    assert library.status_code == 200 and "Chart.js" in library.text[:200]
    assert data.status_code == 401


def test_the_dashboard_shows_the_teams_budgets_and_rate_limits(stack: Stack, page: Any) -> None:
    owner = {"Authorization": f"Bearer {stack.bootstrap_key()}"}
    key = httpx.post(f"{stack.base_url}/api-keys", json={"name": "limited"}, headers=owner)
    assert key.status_code == 201, key.text
    key_id = key.json()["id"]
    budget = httpx.put(
        f"{stack.base_url}/budgets/key/{key_id}",
        json={"amount": "12.5", "period": "month"},
        headers=owner,
    )
    assert budget.status_code == 201, budget.text
    limit = httpx.put(
        f"{stack.base_url}/rate-limits/key/{key_id}",
        json={"requestsPerMinute": 321, "concurrentRequests": 7},
        headers=owner,
    )
    assert limit.status_code == 201, limit.text

    sign_in(page, stack, stack.bootstrap_key())

    budgets = [r.split("\t") for r in page.inner_text("#budgets tbody").splitlines()]
    assert ["key", key_id, "$12.50", "month", "hard", "$0"] in budgets
    limits = [r.split("\t") for r in page.inner_text("#rate-limits tbody").splitlines()]
    assert ["key", key_id, "321", "none", "7"] in limits

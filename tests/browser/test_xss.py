"""Stored XSS and the Content-Security-Policy, in a real browser (issue 14, finding 1).

A resident's words reach staff on many pages: the appeal list and case page, the triage queue,
the hot-issue list and its map tooltips (a hot issue takes its title from an appeal), the forms
that pre-fill from a hot issue, the leader dashboard, and the deliberation pages for proposals.
`test_resident_text_never_runs_for_staff` stores a payload in every such field and visits each
page as the role that sees it, hovering the map markers so that their tooltips render; the
payload would set `window.__xss`, change `document.title` and open a dialog. None may happen.

`test_main_pages_render_under_the_csp` opens the main page of each app and fails on any
"Content Security Policy" console error: the policy must not break maps, charts or forms.
"""

from __future__ import annotations

import pytest

from renzhi.appeals import actions as appeal_actions
from renzhi.appeals.models import Appeal, Category
from renzhi.appeals.tests.conftest import cases  # noqa: F401
from renzhi.commons.actions import proposals
from renzhi.commons.models import Proposal
from renzhi.core.models import Unit
from renzhi.triage import hot
from renzhi.triage.models import HotIssue
from renzhi.triage.tests.conftest import corpus, model_dir, trained  # noqa: F401
from tests.browser.conftest import DESKTOP, _open_page, login

pytestmark = pytest.mark.browser

RUN = "window.__xss=1;document.title='XSS';alert(1)"
PAYLOADS = {
    "title": f'<img src=x onerror="{RUN}">',
    "description": f'"><svg onload="{RUN}"></svg><img src=x onerror="{RUN}">',
}


@pytest.fixture
def poisoned(trained):  # noqa: F811
    """Three near-identical appeals (a hot issue) and a proposal, all carrying the payload.

    The payload is written straight into the stored rows after filing, so the test holds even
    where intake refuses markup: whatever is stored must never run in a staff member's browser.
    """
    w = trained
    filed = []
    for i in range(3):
        filed.append(
            appeal_actions.submit_appeal(
                w.charlie,
                channel="web",
                description=f"小区东门化粪池返味，臭气熏天，{i + 2}号楼受影响",
                lat=39.921,
                lng=116.421,
            ).appeal
        )
    Appeal.objects.filter(pk__in=[a.pk for a in filed]).update(
        title=PAYLOADS["title"], description=PAYLOADS["description"] + " 化粪池返味 臭气熏天"
    )
    # Names staff type reach the same tooltips (dashboard rankings, category mix).
    Unit.objects.filter(pk=w.unit_a.pk).update(name=PAYLOADS["title"])
    Category.objects.filter(pk__in=[a.category_id for a in filed if a.category_id]).update(
        name=PAYLOADS["title"]
    )
    hot.refresh()
    w.hot_issue = HotIssue.objects.order_by("rank").first()
    assert w.hot_issue is not None and "<img" in w.hot_issue.title
    w.appeal = filed[0]
    proposal = proposals.raise_proposal(
        w.charlie, community=w.community_a, title="楼道堆物清理", body="请大家一起清理楼道杂物"
    )
    Proposal.objects.filter(pk=proposal.pk).update(
        title=PAYLOADS["title"], body=PAYLOADS["description"]
    )
    w.proposal = proposal
    return w


# Records every element added to the page that carries an on… attribute. The CSP would stop
# the handler from running, so this is what proves the scripts themselves insert text, not HTML.
# (Injected by the browser driver, so the CSP does not apply to it.)
OBSERVER = """
(() => {
  const seen = [];
  Object.defineProperty(window, "__injected", { value: seen });
  const check = (node) => {
    if (node.nodeType !== 1) return;
    for (const element of [node, ...node.querySelectorAll("*")]) {
      for (const attribute of element.attributes) {
        if (attribute.name.startsWith("on")) seen.push(element.outerHTML.slice(0, 120));
      }
    }
  };
  new MutationObserver((records) => {
    records.forEach((record) => record.addedNodes.forEach(check));
  }).observe(document, { childList: true, subtree: true });
})();
"""


def _watch(page) -> list[str]:
    page.add_init_script(OBSERVER)
    dialogs: list[str] = []

    def dismiss(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return dialogs


def _hover_everything(page, selector: str) -> int:
    """Hover each map shape or marker so that Leaflet renders its tooltip."""
    items = page.locator(selector)
    count = items.count()
    for index in range(count):
        item = items.nth(index)
        if item.is_visible():
            item.hover(force=True)
            page.wait_for_timeout(50)
    return count


def _hover_charts(page) -> int:
    """Point at every ECharts chart so that its tooltip renders (formatters return HTML): a bit
    right of the centre, which is inside the plot of a bar or line chart and on a pie's ring."""
    charts = page.locator("[data-chart]")
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None
        x = box["width"] / 2 + min(box["width"], box["height"]) * 0.26
        chart.hover(position={"x": x, "y": box["height"] / 2}, force=True)
        page.wait_for_timeout(300)
    return charts.count()


def _assert_nothing_ran(page, where: str, dialogs: list[str]) -> None:
    injected = page.evaluate("window.__injected")
    assert not injected, f"payload inserted as HTML on {where}: {injected}"
    assert page.evaluate("typeof window.__xss") == "undefined", f"payload ran on {where}"
    assert page.title() != "XSS", f"payload changed the title on {where}"
    assert not dialogs, f"payload opened a dialog on {where}: {dialogs}"


def test_resident_text_never_runs_for_staff(poisoned, live_server, browser):
    w = poisoned
    visits = {
        "dora": [
            "/appeals/",
            f"/appeals/{w.appeal.tracking_no}/",
            "/triage/",
            "/triage/hot/",
            f"/emergency/incidents/new/?hot_issue={w.hot_issue.pk}",
            f"/warnings/new/?hot_issue={w.hot_issue.pk}",
        ],
        "alice": [
            "/appeals/",
            f"/appeals/{w.appeal.tracking_no}/",
            "/commons/proposals/",
            f"/commons/proposals/{w.proposal.pk}/",
            f"/commons/proposals/new/?hot_issue={w.hot_issue.pk}",
        ],
        "frank": ["/appeals/dashboard/", "/triage/hot/"],
        "charlie": ["/appeals/mine/", f"/commons/proposals/{w.proposal.pk}/"],
    }
    for username, paths in visits.items():
        context, page, outside, errors = _open_page(browser, DESKTOP)
        context.set_default_timeout(45_000)  # a loaded CI machine; nothing here is timed
        dialogs = _watch(page)
        try:
            _visit_as(page, live_server, username, paths, dialogs)
        finally:
            context.close()
        assert not outside and not errors, (username, outside, errors)


def _visit_as(page, live_server, username: str, paths: list[str], dialogs: list[str]) -> None:
    base = live_server.url
    login(page, live_server, username)
    for path in paths:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        where = f"{path} as {username}"
        if path == "/triage/hot/":
            page.wait_for_selector(".hot-label")
            assert _hover_everything(page, ".hot-label") >= 1
            _hover_everything(page, "path.leaflet-interactive")
            _assert_nothing_ran(page, where, dialogs)
            # The title is shown, as text.
            page.locator(".hot-label").first.hover(force=True)
            assert "<img" in page.locator(".leaflet-tooltip").last.inner_text(), where
        if path == "/appeals/dashboard/":
            page.wait_for_selector("[data-map] path.leaflet-interactive")
            _hover_everything(page, "[data-map] path.leaflet-interactive")
            assert _hover_charts(page) >= 4, where
            page.wait_for_timeout(500)  # an <img> fails to load, then its onerror runs
        _assert_nothing_ran(page, where, dialogs)


def test_main_pages_render_under_the_csp(poisoned, live_server, browser):
    base = live_server.url
    checks = {
        "root": [
            ("/", "#scope-chart svg"),
            ("/places/", "[data-map] path.leaflet-interactive"),
            ("/triage/hot/", ".hot-label"),
            ("/warnings/map/", "[data-warning-map].leaflet-container"),
            ("/emergency/", "main"),
            ("/emergency/incidents/", "main"),
            ("/emergency/reserves/", "main"),
            ("/commons/", "main"),
            ("/commons/proposals/", "main"),
            ("/calendar/", "#month-card"),
            ("/users/", "#user-results"),
        ],
        "frank": [("/appeals/dashboard/", "[data-map] path.leaflet-interactive")],
        "charlie": [("/appeals/new/", "[data-intake-map] path.leaflet-interactive")],
    }
    for username, paths in checks.items():
        context, page, outside, errors = _open_page(browser, DESKTOP)
        context.set_default_timeout(45_000)  # a loaded CI machine; nothing here is timed
        violations: list[str] = []
        page.on(
            "console",
            lambda message, seen=violations: (
                seen.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        try:
            login(page, live_server, username)
            for path, ready in paths:
                response = page.goto(f"{base}{path}")
                assert response is not None and response.status == 200, path
                policy = response.headers.get("content-security-policy", "")
                assert "script-src 'self'" in policy, path
                page.wait_for_selector(ready, state="attached")
                page.wait_for_load_state("networkidle")
            if username == "root":
                # A filter that submitted by an inline onchange now does so from app.js.
                page.goto(f"{base}/commons/proposals/")
                page.select_option("#f-phase", "collecting")
                page.wait_for_url("**/commons/proposals/?phase=collecting")
        finally:
            context.close()
        assert not violations, (username, violations)
        assert not outside and not errors, (username, outside, errors)

"""The report in a real browser: the system's Chromium driven by Playwright.

The page loads with no console error, its figures have a size, and the replay's slider moves
the displayed state, which at each t is the run's own (``run.replay.frame_at``). Skipped,
saying why, where Playwright or ``/usr/bin/chromium`` is missing (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simdeploy import Scenario, report_html
from simdeploy.experiments.compare import compare, variants_of
from simdeploy.run.replay import Frame, frame_at
from simdeploy.run.result import Result, version_column
from simdeploy.world.recorder import POD_STATES
from tests.conftest import base_dict

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"no browser: {CHROMIUM} is not installed (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: An Argo canary with a router: deploy at 10 s, setWeight 25, pause 20 s, setWeight 50.
CANARY = base_dict(
    plan=[
        {
            "at": "10s",
            "action": "deploy",
            "version": "v2",
            "strategy": {
                "type": "Canary",
                "canary": {
                    "trafficRouting": {"istio": {}},
                    "steps": [{"setWeight": 25}, {"pause": {"duration": "20s"}}, {"setWeight": 50}],
                },
            },
        }
    ],
    compare=None,
)
EVIL = "</script><script>alert('x')</script><img src=x onerror=alert('y')>"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Chromium for the module, with a fresh user data dir."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            yield context
        finally:
            context.close()
    shutil.rmtree(profile, ignore_errors=True)


def _page_of(
    tmp_path: Path, variants: dict[str, Scenario], name: str = "report.html"
) -> tuple[Path, dict[str, Result]]:
    comparison = compare(variants, 1)
    first = next(iter(variants.values()))
    source = report_html.Source("scenario.yaml", "name: x\n", first)
    path = tmp_path / name
    path.write_text(report_html.run_page([source], variants, comparison), encoding="utf-8")
    return path, {k: runs[0] for k, runs in comparison.runs.items()}


class _Opened:
    """A page loaded from a file, with what it said on the console and any dialog."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.problems: list[str] = []
        self.page = browser.new_page()
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss())
        )
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")


def _shown(replay: Any) -> dict[str, Any]:
    """What a replay displays now."""
    rows = {}
    for tr in replay.locator(".replay-rs tbody tr[data-rs]").all():
        cells = [tr.locator(f'td[data-state="{s}"]').inner_text() for s in POD_STATES]
        rows[tr.get_attribute("data-rs")] = [
            tr.locator("td").nth(1).inner_text(),
            int(tr.locator('td[data-field="desired"]').inner_text()),
            *map(int, cells),
        ]
    return {
        "t": float(replay.get_attribute("data-t")),
        "step": replay.locator(".replay-step").inner_text(),
        "status": replay.locator(".replay-status").inner_text(),
        "asked": replay.locator(".replay-asked").inner_text(),
        "served": replay.locator(".replay-served").inner_text(),
        "rs": rows,
        "events": replay.locator(".replay-events li").all_inner_texts(),
    }


def _expected(frame: Frame, result: Result) -> dict[str, Any]:
    last = result.events.iloc[: frame.events].tail(report_html.LAST_EVENTS)
    return {
        "t": frame.t,
        "step": frame.step or "–",
        "status": frame.status or "–",
        "asked": "–" if frame.weight_asked is None else f"{frame.weight_asked:.1f} %",
        # Before the first deploy there is no new version: a dash, not "0.0 %".
        "served": (
            "–"
            if frame.version is None
            else ("–" if frame.weight_served is None else f"{frame.weight_served:.1f} %")
            + f" ({frame.version})"
        ),
        "rs": {
            rs.name: [rs.version, rs.desired, *(rs.pods[s] for s in POD_STATES)]
            for rs in frame.replica_sets
        },
        "events": [f"{e.t:.3f}" for e in last.itertuples()],
    }


def test_the_page_loads_clean_and_the_slider_replays_the_run(browser: Any, tmp_path: Path) -> None:
    path, results = _page_of(tmp_path, {"canary": Scenario.parse(CANARY)})
    result = results["canary"]
    opened = _Opened(browser, path)
    page = opened.page
    # The figure is drawn: an inline SVG with a size.
    svgs = page.locator("svg").all()
    assert svgs
    for svg in svgs:
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    replay = page.locator(".replay")
    steps = result.steps
    mid_pause = float((steps["t"].iloc[1] + steps["t"].iloc[2]) // 2)
    seen = []
    for t in (0.0, 10.0, 12.0, mid_pause, 89.0):  # before, at the deploy, pods starting, ...
        page.locator(".replay-slider").fill(str(int(t)))  # frame i is bucket i: t = i s
        shown = _shown(replay)
        expected = _expected(frame_at(result, t), result)
        keys = ("t", "step", "status", "asked", "served", "rs")
        assert {k: shown[k] for k in keys} == {k: expected[k] for k in keys}
        assert [e.split(" s ")[0] for e in shown["events"]] == expected["events"]
        # The run's own timeline at that bucket: pods and Ready pods of each version.
        row = result.timeline.iloc[int(t)]
        for v in ("v1", "v2"):
            pods = [r for r in shown["rs"].values() if r[0] == v]
            assert sum(sum(r[2:]) for r in pods) == row[version_column("pods", v)]
            ready = POD_STATES.index("Ready") + 2
            assert sum(r[ready] for r in pods) == row[version_column("ready", v)]
        seen.append(json.dumps(shown, sort_keys=True))
    assert len(set(seen)) == len(seen)  # the displayed state changed with t
    # Mid-pause, as the spec says: step 1 of 3 (pause 20 s) at the weight of step 0 (25%).
    page.locator(".replay-slider").fill(str(int(mid_pause)))
    assert replay.locator(".replay-step").inner_text() == "1/3 pause: 20s"
    assert replay.locator(".replay-asked").inner_text() == "25.0 %"
    page.locator(".replay-slider").fill("0")
    assert replay.locator(".replay-served").inner_text() == "–"  # before the deploy
    page.locator(".replay-slider").fill(str(int(mid_pause)))
    # The buttons move it one frame; the keyboard too.
    at = int(mid_pause)
    page.locator(".replay-next").click()
    assert replay.get_attribute("data-frame") == str(at + 1)
    page.locator(".replay-prev").click()
    page.locator(".replay-prev").click()
    assert replay.get_attribute("data-frame") == str(at - 1)
    page.locator(".replay-slider").fill("89")
    page.locator(".replay-next").click()
    assert replay.get_attribute("data-frame") == "89"  # the last frame stays the last
    page.locator(".replay-slider").focus()
    page.keyboard.press("Home")
    assert float(replay.get_attribute("data-t")) == 0.0
    page.locator(".replay-play").click()
    sync_api.expect(replay).not_to_have_attribute("data-frame", "0")  # waits for a tick
    page.locator(".replay-play").click()
    assert opened.problems == []
    # Printed: the buttons are hidden, the figure stays; the replay is the frame the slider
    # is on (not frame 0, before the deploy), with a print-only note saying which t.
    note = replay.locator(".replay-print-note")
    assert not note.is_visible()
    page.locator(".replay-slider").fill("40")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    page.emulate_media(media="print")
    assert not page.locator(".replay-play").is_visible()
    assert page.locator("svg").first.is_visible()
    assert replay.get_attribute("data-t") == "40"
    assert note.is_visible()
    assert note.inner_text() == "replay at t = 40 s (move the slider on screen)"
    assert all(page.locator("details").evaluate_all("ds => ds.map(d => d.open)"))
    page.close()


def test_a_comparison_has_one_replay_per_variant(browser: Any, tmp_path: Path) -> None:
    sc = Scenario.parse(base_dict(compare={"recreate": {"type": "Recreate"}, "rolling": {}}))
    path, results = _page_of(tmp_path, variants_of(sc))
    opened = _Opened(browser, path)
    page = opened.page
    replays = page.locator(".replay")
    assert replays.count() == 2
    replays.nth(0).locator(".replay-slider").fill("12")
    assert float(replays.nth(0).get_attribute("data-t")) == 12.0
    assert float(replays.nth(1).get_attribute("data-t")) == 0.0  # the other one did not move
    expected = _expected(frame_at(results["recreate"], 12.0), results["recreate"])
    assert _shown(replays.nth(0))["rs"] == expected["rs"]
    for svg in page.locator("svg").all():
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    assert opened.problems == []
    page.close()


#: What the layout of a comparison reads on a laptop screen: its width, its replays' state.
_LAYOUT = """() => {
  const box = e => e.getBoundingClientRect();
  return [...document.querySelectorAll('.variant')].map(v => {
    const svg = v.querySelector('svg'), table = v.querySelector('.replay .scroll');
    return {
      left: box(v).left, top: box(v).top, width: box(v).width,
      px_per_pt: box(svg).width / svg.viewBox.baseVal.width,
      table: [table.scrollWidth, table.clientWidth],
    };
  });
}"""


def test_variants_side_by_side_are_readable_on_a_laptop(browser: Any, tmp_path: Path) -> None:
    """Three variants on a 1300 px wide window: columns of at least 560 px, so two side by
    side and the third below; each timeline drawn at no less than 1 px per point (75 % of
    its natural 1.33: 10 pt text at 10 px or more, not the 7 px of an 11-inch figure in a
    600 px column); the replay's table fits its column (nothing cut off, no scrolling)."""
    sc = Scenario.parse(
        base_dict(
            compare={
                "recreate": {"type": "Recreate"},
                "rolling": {},
                "surge": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2}},
            }
        )
    )
    path, _ = _page_of(tmp_path, variants_of(sc))
    page = browser.new_page()
    page.set_viewport_size({"width": 1300, "height": 900})
    page.goto(path.as_uri())
    for i in range(3):
        page.locator(".replay-slider").nth(i).fill("13")  # two replica sets, every column
    first, second, third = page.evaluate(_LAYOUT)
    assert all(v["width"] >= 560 for v in (first, second, third))
    assert first["top"] == second["top"] and second["left"] > first["left"]
    assert third["top"] > first["top"] and third["left"] == first["left"]
    for v in (first, second, third):
        assert v["px_per_pt"] >= 1.0, v
        assert v["table"][0] <= v["table"][1], v  # scrollWidth within clientWidth
    page.close()


def test_user_text_runs_nothing_in_the_browser(browser: Any, tmp_path: Path) -> None:
    v2 = base_dict()["versions"]["v2"]
    data = base_dict(
        name=EVIL,
        description=EVIL,
        versions={"v2": None, EVIL: v2},
        plan=[{"at": "10s", "action": "deploy", "version": EVIL}],
    )
    path, _ = _page_of(tmp_path, {EVIL: Scenario.parse(data)})
    opened = _Opened(browser, path)
    page = opened.page
    assert page.locator("h1").inner_text() == EVIL
    assert page.locator("img").count() == 0
    page.locator(".replay-slider").fill("30")
    rows = _shown(page.locator(".replay"))["rs"]
    assert f"app-{EVIL}" in rows  # the version's replica set, named as written
    assert opened.problems == []  # no dialog, no error
    page.close()

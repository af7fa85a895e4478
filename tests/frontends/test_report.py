"""``simdeploy report``: one self-contained HTML page of a run, a comparison or a sweep.

Read without a browser: the page is parsed (stdlib ``html.parser``) and its sections, tables
and embedded data are checked against the runs themselves (the same scenario and seed give
the same run). The browser's view is tests/frontends/test_report_browser.py.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from simdeploy import Scenario, plots, simulate
from simdeploy.cli import main
from simdeploy.experiments.compare import mean_ci95
from simdeploy.experiments.sweep import sweep
from simdeploy.report_html import (
    MAX_VECTOR_POINTS,
    ci_cell,
    describe,
    event_type,
    number,
    script_json,
    svg,
)
from simdeploy.run.replay import frame_at
from simdeploy.world.recorder import POD_STATES
from tests.conftest import base_dict

# --- a small DOM, enough to read the page ---------------------------------------------------

_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        """Every descendant with ``tag``, class ``cls`` and the attributes given."""
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if (
                    (tag is None or c.tag == tag)
                    and (cls is None or cls in c.classes)
                    and all(c.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
                ):
                    out.append(c)
                out += c.all(tag, cls, **attrs)
        return out

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Node:
        found = self.all(tag, cls, **attrs)
        assert len(found) == 1, (tag, cls, attrs, len(found))
        return found[0]

    def rows(self) -> list[list[str]]:
        """The text of each body row's cells (a table)."""
        return [[td.text.strip() for td in tr.all("td")] for tr in self.one("tbody").all("tr")]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


# --- scenarios ------------------------------------------------------------------------------

#: No preStop: every old pod stops accepting before the balancer (1 s late) drops it, so the
#: rolling update has connection_refused errors and `errors: 0` fails; the other holds.
FAILS_EXPECTATIONS = base_dict(
    service={"pod": {"lifecycle": None}},
    expect={"errors": 0, "downtime_s": 0},
)
#: v2 fails 30% of requests; an SLO alert (5% over 10 s, 5 s to react) undoes it.
ROLLED_BACK = base_dict(
    versions={"v2": {"bug": {"errorRate": 0.3}}},
    rollback={"sloAlert": {"errorRate": 0.05, "window": "10s", "reactionDelay": "5s"}},
)
#: v2 crash-loops; the progress deadline (30 s) passes with no rollback configured.
STUCK = base_dict(versions={"v2": {"crashOnStart": True}}, service={"progressDeadlineSeconds": 30})


def _report(tmp_path: Path, data: dict[str, Any], *args: str) -> tuple[str, Node]:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(path), "-o", str(out), *args]) == 0
    html = out.read_text(encoding="utf-8")
    return html, parse(html)


def _replay(variant: Node) -> dict[str, Any]:
    return json.loads(variant.one("script", cls="replay-data").text)


# --- one run ----------------------------------------------------------------------------------


def test_a_run_page_holds_every_section_with_the_runs_numbers(tmp_path: Path) -> None:
    _, doc = _report(tmp_path, FAILS_EXPECTATIONS)
    result = simulate(Scenario.parse(FAILS_EXPECTATIONS))
    record = result.record
    assert record["errors"] > 0  # the premise: no preStop, errors during the update
    for section in ("scenario", "summary", "errors", "runs"):
        doc.one("section", id=section)
    # The scenario, in words and as the file says it.
    scenario = doc.one("section", id="scenario")
    assert scenario.one("pre").text == (tmp_path / "scenario.yaml").read_text()
    assert "4 replicas of v1" in scenario.text
    # The summary table: the run's own numbers.
    summary = doc.one("table", cls="summary")
    cells = {row[0]: row[1] for row in summary.rows()}
    assert cells["errors"] == number(record["errors"], "errors")
    assert cells["users_affected"] == number(record["users_affected"])
    assert cells["downtime_s"] == number(record["downtime_s"])
    assert cells["outcome"] == "completed"
    # Errors by cause: every cause the run had, with its count.
    causes = dict(doc.one("table", cls="causes").rows())
    assert causes == {c: number(n) for c, n in record["errors_by_cause"].items() if n}
    # Expectations: `errors: 0` failed with the run's count, `downtime_s: 0` held.
    checks = doc.one("table", cls="checks").rows()
    assert checks[0][:3] == ["errors", "== 0", f"got {record['errors']:,}"]
    assert checks[0][3] == "FAIL" and checks[1][3] == "ok"
    assert "1/2 expectations" in doc.one("p", cls="verdict").text
    # The timeline figure, the event log and the replay of that run.
    runs = doc.one("section", id="runs")
    (figure,) = runs.all("svg")
    assert "viewbox" in figure.attrs and "small (seed 3)" in figure.text  # lower-cased
    events = runs.one("table", cls="events").rows()
    assert len(events) == len(result.events)
    assert [e[2] for e in events] == list(result.events.reason)
    replay = _replay(runs)
    assert len(replay["frames"]) == len(result.timeline) == 90
    assert len(replay["events"]) == len(result.events)
    at40 = frame_at(result, 40.0)
    assert replay["frames"][40]["rs"] == [
        [rs.name, rs.version, rs.desired, *(rs.pods[s] for s in POD_STATES)]
        for rs in at40.replica_sets
    ]
    assert replay["frames"][40]["status"] == at40.status
    assert runs.one("input", cls="replay-slider").attrs["max"] == "89"


def test_a_long_timeline_is_drawn_as_an_image_on_the_page(tmp_path: Path) -> None:
    """90 s in 50 ms buckets: 1,800 buckets, stacked areas of about 4 × 1,800 = 7,200
    vertices (steps), above MAX_VECTOR_POINTS (5,000): drawn as an embedded PNG (a data:
    URI, nothing fetched), its text still text, and the element a fraction of the all-vector
    figure the CLI saves. The same run in 1 s buckets (90; areas of ~360) stays vectors."""
    long = base_dict(simulation={"bucket": "50ms"})
    _, doc = _report(tmp_path, long)
    (figure,) = doc.one("section", id="runs").all("svg")
    images = figure.all("image")
    assert images and all(
        i.attrs["xlink:href"].startswith("data:image/png;base64,") for i in images
    )
    assert "small (seed 3)" in figure.text  # the title: text, not pixels
    result = simulate(Scenario.parse(long))
    assert len(result.timeline) == 1800 and MAX_VECTOR_POINTS < 4 * 1800
    page_svg = str(svg(lambda: plots.timeline_figure(result), "x"))
    vector = io.StringIO()
    plots.timeline_figure(result).savefig(vector, format="svg")
    assert len(page_svg) < len(vector.getvalue()) / 4
    _, short = _report(tmp_path, FAILS_EXPECTATIONS)
    assert not short.one("section", id="runs").all("image")


def test_the_page_fetches_nothing(tmp_path: Path) -> None:
    """No src, no link, no url() outside the page: figures are inline SVG, style and script
    inline, and a Content Security Policy lets nothing else load (default-src 'none')."""
    html, doc = _report(tmp_path, FAILS_EXPECTATIONS)
    assert not re.search(r"\bsrc\s*=", html)
    assert not doc.all("link") and not doc.all("img") and not doc.all("iframe")
    assert all(a.attrs["href"].startswith("#") for a in doc.all("a"))
    assert {m.group(1)[:1] for m in re.finditer(r"url\(([^)]*)\)", html)} <= {"#"}
    assert "@import" not in html
    csp = doc.one("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    (script,) = [s for s in doc.all("script") if "type" not in s.attrs]
    assert ".replay" in script.text
    assert "@media print" in doc.one("head").one("style").text


@pytest.mark.parametrize(
    ("data", "outcome", "warning"),
    [
        (FAILS_EXPECTATIONS, "completed", None),
        (ROLLED_BACK, "rolled_back", "RollbackRequested"),
        (STUCK, "stuck", "ProgressDeadlineExceeded"),
    ],
    ids=["fails-expectations", "rolled-back", "stuck"],
)
def test_a_run_that_went_wrong_gets_a_full_report(
    tmp_path: Path, data: dict[str, Any], outcome: str, warning: str | None
) -> None:
    """When people need the page most: every section, the figure, the replay over the whole
    run, the events with the cause as a Warning."""
    _, doc = _report(tmp_path, data)
    result = simulate(Scenario.parse(data))
    assert result.record["outcome"] == outcome
    for section in ("scenario", "summary", "errors", "runs"):
        doc.one("section", id=section)
    run = doc.one("article", cls="variant")
    assert run.one("span", cls=outcome).text == outcome
    assert len(run.all("svg")) == 1
    assert len(_replay(run)["frames"]) == len(result.timeline)
    events = run.one("table", cls="events").rows()
    assert len(events) == len(result.events)
    if warning is not None:
        assert [warning, "Warning"] in [[e[2], e[1]] for e in events]


# --- comparison and sweep -----------------------------------------------------------------------


def test_a_comparison_has_a_column_and_a_section_per_variant(tmp_path: Path) -> None:
    """Two variants on two seeds: means with the 95% CI's half-width, side by side."""
    data = base_dict(
        service={"pod": {"lifecycle": None}},
        compare={
            "recreate": {"type": "Recreate"},
            "rolling": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        },
    )
    _, doc = _report(tmp_path, data, "--seeds", "2")
    summary = doc.one("table", cls="summary")
    head = [th.text for th in summary.one("thead").all("th")]
    assert head == ["field", "recreate", "rolling", "unit", "meaning"]
    cells = {row[0]: row[1:3] for row in summary.rows()}
    sc = Scenario.parse(data)
    for i, (name, strategy) in enumerate(sc.compare.items()):
        errors = [
            simulate(sc.with_strategy(strategy, name), seed=s).record["errors"] for s in (3, 4)
        ]
        mean, ci = mean_ci95(errors)
        assert mean is not None
        half = None if ci is None else (ci[1] - ci[0]) / 2
        assert cells["errors"][i] == ci_cell(mean, half, "errors")
    assert len(doc.one("section", id="figures").all("svg")) == 1  # the comparison figure
    variants = doc.all("article", cls="variant")
    assert [v.attrs["data-variant"] for v in variants] == ["recreate", "rolling"]
    assert all(len(_replay(v)["frames"]) == 90 for v in variants)


def test_a_sweep_page_has_the_sweeps_table_and_figures(tmp_path: Path) -> None:
    _, doc = _report(tmp_path, FAILS_EXPECTATIONS, "--set", "service.replicas=2,4")
    table = sweep(Scenario.parse(FAILS_EXPECTATIONS), {"service.replicas": [2, 4]})
    rows = doc.one("table", cls="sweep").rows()
    assert [r[0] for r in rows] == ["2", "4"]
    head = [th.text for th in doc.one("table", cls="sweep").all("th")]
    errors = head.index("errors")
    assert [r[errors] for r in rows] == [number(x) for x in table["errors"]]
    assert len(doc.one("section", id="figures").all("svg")) == 4  # errors, users, downtime, cost
    assert not doc.all("section", id="runs")


def test_bad_report_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(base_dict()), encoding="utf-8")
    out = str(tmp_path / "r.html")
    assert main(["report", str(path), "--sweep", "-o", out]) == 2
    assert "nothing to sweep" in capsys.readouterr().err
    assert main(["report", str(path), str(path), "--set", "replicas=2,4", "-o", out]) == 2
    assert "one scenario file" in capsys.readouterr().err
    assert main(["report", str(path)]) == 2  # -o is required
    assert main(["report", str(tmp_path / "missing.yaml"), "-o", out]) == 2
    assert main(["report", str(path), "-o", str(tmp_path)]) == 2  # a folder
    assert not Path(out).exists()


# --- user text never becomes markup -------------------------------------------------------------

EVIL_NAME = "<script>alert(1)</script>"
EVIL_DESCRIPTION = "</script><script>alert(2)</script> & <b>bold</b> <!--"
EVIL_VERSION = "v2</script><script>alert(3)</script>"
EVIL_KEY = "<img src=x onerror=alert(4)> $x^2$"  # and a dollar is no mathtext


def test_names_descriptions_and_keys_stay_text(tmp_path: Path) -> None:
    v2 = base_dict()["versions"]["v2"]
    data = base_dict(
        name=EVIL_NAME,
        description=EVIL_DESCRIPTION,
        versions={"v2": None, EVIL_VERSION: v2},
        plan=[{"at": "10s", "action": "deploy", "version": EVIL_VERSION}],
        compare={EVIL_KEY: {"type": "Recreate"}, "</script>": {"type": "RollingUpdate"}},
    )
    html, doc = _report(tmp_path, data)
    # Only the page's own script runs; the replays' data are JSON, one per variant.
    assert len(re.findall(r"<script\b", html, re.I)) == 1 + 2
    assert len(re.findall(r"</script", html, re.I)) == 1 + 2
    assert len(re.findall(r'<script type="application/json" class="replay-data">', html)) == 2
    assert "<img" not in html and "<b>" not in html and "<!--" not in html.split("<main>")[1]
    # ... and every string is on the page as written, as text.
    assert doc.one("h1").text == EVIL_NAME
    assert EVIL_NAME in doc.one("title").text
    assert doc.one("p", cls="description").text == EVIL_DESCRIPTION
    keys = [v.attrs["data-variant"] for v in doc.all("article", cls="variant")]
    assert keys == [EVIL_KEY, "</script>"]
    figure = doc.one("section", id="figures").one("svg")  # variant names, escaped by matplotlib
    assert EVIL_KEY in figure.text and "</script>" in figure.text
    timeline = doc.all("article", cls="variant")[0].one("svg")
    assert f"{EVIL_KEY} (seed 3)" in timeline.text
    replay = _replay(doc.all("article", cls="variant")[0])
    names = {rs[0] for frame in replay["frames"] for rs in frame["rs"]}
    assert f"app-{EVIL_VERSION}" in names
    assert any(EVIL_VERSION in e[3] for e in replay["events"])


def test_script_json_cannot_close_its_element() -> None:
    text = "</script><!-- & \u2028"
    out = str(script_json({"t": text}))
    assert not set(out) & {"<", ">", "&", "\u2028"}
    assert json.loads(out) == {"t": text}


# --- pieces ---------------------------------------------------------------------------------------


def test_the_scenario_in_words() -> None:
    words = describe(Scenario.parse(base_dict()))
    assert words[0].startswith("4 replicas of v1 behind a round_robin balancer")
    assert words[1] == "Traffic: 100 requests/s from 1,000 users, client timeout 5 s."
    assert words[2] == "At 10 s: deploy v2 with RollingUpdate(maxSurge=1, maxUnavailable=0)."
    assert words[-1].startswith("90 s simulated in 1 s buckets (requests data plane)")
    assert "No deploy in the plan: the run is steady state." not in words


def test_the_scenario_in_words_says_when_nothing_is_deployed() -> None:
    """A plan of one migration of one operation (lock-queue.yaml, no deploy)."""
    from tests.conftest import SCENARIOS

    sc = Scenario.parse(yaml.safe_load((SCENARIOS / "lock-queue.yaml").read_text()))
    (migrate,) = [a for a in sc.plan if a.action == "migrate"]
    assert len(migrate.operations) == 1 and not [a for a in sc.plan if a.action == "deploy"]
    words = describe(sc)
    assert f"migration {migrate.phase_name} (1 operation)." in " ".join(words)
    assert "No deploy in the plan: the run is steady state." in words


@pytest.mark.parametrize(
    ("reason", "message", "kind"),
    [
        ("RollbackRequested", "", "Warning"),
        ("ProgressDeadlineExceeded", "", "Warning"),
        ("AnalysisRunFailed", "", "Warning"),
        ("BackOff", "", "Warning"),
        ("SIGKILL", "", "Warning"),
        ("Ready", "", "Normal"),
        ("ScalingReplicaSet", "", "Normal"),
        ("RolloutCompleted", "", "Normal"),
        # Flagger, pkg/controller/scheduler_metrics.go: recordEventWarningf("Halt %s.%s
        # advancement success rate %.2f%% < %v%%", ...); scheduler.go rollback():
        # recordEventWarningf("Rolling back %s.%s failed checks threshold reached %v", ...);
        # its "Advance %s.%s canary weight %v" and "Copying ... template spec" are Infof.
        ("Halt", "failedChecks 1: request-success-rate 96.78% < 99%", "Warning"),
        ("Rollback", "Rolling back app-canary-v2: Canary failed!", "Warning"),
        ("Advance", "weight 10", "Normal"),
        ("Promoting", "copying canary spec to primary", "Normal"),
        # A measurement is typed by the phase it ended in (the end of its message).
        ("AnalysisMeasurement", "error_rate=0.03 → Failed", "Warning"),
        ("AnalysisMeasurement", "error_rate=no data → Error", "Warning"),
        ("AnalysisMeasurement", "error_rate=0.001 → Successful", "Normal"),
        ("AnalysisMeasurement", "error_rate=0.01 → Inconclusive", "Normal"),
        ("LockTimeout", "ALTER TABLE users ADD COLUMN x: lock_timeout 2s (attempt 1/6)", "Warning"),
        ("ShadowAnalysis", "574/5813 mismatches (9.87%)", "Warning"),
        ("ShadowAnalysis", "0/5813 mismatches (0.00%)", "Normal"),
    ],
)
def test_event_types_as_kubectl_shows_them(reason: str, message: str, kind: str) -> None:
    assert event_type(reason, message) == kind


@pytest.mark.parametrize(
    ("value", "field", "shown"),
    [
        (215600.5, "requests", "215,600"),  # from 1,000 on: no decimals
        (0.0399412, "latency_mean_s", "0.03994"),  # 4 significant digits
        (12.0, "errors", "12"),  # a whole mean is a count
        (1234, "errors", "1,234"),
        (0.0123, "error_rate", "1.230%"),
        (0.00015, "error_rate", "0.0150%"),  # below 1 %: 3 significant digits, not "0.015%"
        ("rolled_back", "outcome", "rolled_back"),
    ],
)
def test_numbers_on_the_page(value: Any, field: str, shown: str) -> None:
    assert number(value, field) == shown


@pytest.mark.parametrize(
    ("value", "half", "field", "shown"),
    [
        # The half-width in the value's unit and to its decimals: 0.015 % has 4 (3
        # significant digits), so 0.004 % is "0.0040%", not "0.0%".
        (0.00015, 0.00004, "error_rate", "0.0150% ± 0.0040%"),
        (0.0123, 0.0004, "error_rate", "1.230% ± 0.040%"),
        # From 1,000 on no decimals: a half-width of 390.4 is "390", not "3.9e+02".
        (13935.2, 390.4, "requests", "13,935 ± 390"),
        (215600.5, 1234.5, "requests", "215,600 ± 1,234"),
        (12.34, 0.567, "latency_p99_s", "12.34 ± 0.57"),
        # A whole mean has no decimals: a half-width below 0.5 keeps its first digit.
        (2.0, 0.3, "errors", "2 ± 0.3"),
        (2.0, None, "errors", "2"),
        (None, 0.3, "errors", "-"),
    ],
)
def test_ci_half_widths_on_the_page(
    value: float | None, half: float | None, field: str, shown: str
) -> None:
    assert ci_cell(value, half, field) == shown


def test_policy_expectations_are_on_the_page(tmp_path: Path) -> None:
    # canary-analysis's policy with 2 seeds per release: a good release is never rolled back
    # (0 of 2), a 5% one always but never within 10 s (tests/run/test_policy_gate.py).
    from tests.conftest import SCENARIOS

    data = yaml.safe_load((SCENARIOS / "canary-analysis.yaml").read_text())
    data["expect"] = {
        "outcome": "rolled_back",
        "policy": {
            "seeds": 2,
            "falseRollbackRate": "<= 0.5",
            "detects": {"errorRate": 0.05, "probability": ">= 0.5", "within": "10s"},
        },
    }
    _, doc = _report(tmp_path, data)
    rows = doc.one("table", cls="checks").rows()
    assert [r[0] for r in rows] == ["outcome", "policy.falseRollbackRate", "policy.detects"]
    assert [r[3] for r in rows] == ["ok", "ok", "FAIL"]
    assert "in 0 of 2 runs" in rows[1][2] and "in 0 of 2 runs" in rows[2][2]
    assert "2/3 expectations" in doc.one("p", cls="verdict").text

"""Writes docs/fluid-agreement.md: every bundled scenario on both data planes.

For each scenario: each metric's mean ± 95% CI half-width on the request-level and on the
fluid data plane over the same seeds, and whether they agree
(:mod:`simdeploy.experiments.agreement`); or why the fluid plane refuses it.

Run: ``.venv/bin/python benchmarks/fluid_agreement.py [--seeds 10] [--jobs 2]``.
"""

from __future__ import annotations

import argparse
import glob
import platform
from pathlib import Path

from simdeploy import load_scenario
from simdeploy.experiments.agreement import agreement
from simdeploy.experiments.compare import variants_of
from simdeploy.spec.base import ScenarioError

OUT = Path(__file__).resolve().parent.parent / "docs" / "fluid-agreement.md"


def _cell(mean: object, half: object) -> str:
    if mean is None:
        return "–"
    if isinstance(mean, str):
        return mean
    return f"{mean:.4g} ± {half:.2g}" if half else f"{mean:.4g}"


def _rows(name: str, scenario: object, seeds: int, jobs: int) -> list[str]:
    try:
        table = agreement(scenario, seeds, jobs)  # type: ignore[arg-type]
    except ScenarioError as err:
        field, reason = err.errors[0].split(": ", 1)
        print(name, "refused")
        return [f"| {name} | refused | `{field}` | {reason} | |"]
    ok = bool(table["agree"].all())
    print(name, "agrees" if ok else "DISAGREES")
    out = []
    for i, row in enumerate(table.itertuples()):
        shown = row.metric if row.agree else f"**{row.metric} (differs)**"
        out.append(
            f"| {name if i == 0 else ''} | {('agrees' if ok else 'differs') if i == 0 else ''}"
            f" | {shown} | {_cell(row.requests_mean, row.requests_ci95)}"
            f" | {_cell(row.fluid_mean, row.fluid_ci95)} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    lines = [
        "# Fluid data plane: agreement with the request-level plane",
        "",
        f"Every bundled scenario and each of its `compare:` variants, {args.seeds} seeds on "
        "each plane (`benchmarks/"
        f"fluid_agreement.py`, Python {platform.python_version()}, {platform.machine()}). "
        "A metric agrees when the two 95% confidence intervals overlap (latency: widened by "
        "the histograms' 1% per side); the outcome when it is the same on as many seeds "
        "within binomial error. With a database, `errors_in_<phase>` are the errors of each "
        "migration phase (`errors_by_phase`). `tests/run/test_fluid_agreement.py` checks the "
        "same with 6 seeds on every run of `make test`.",
        "",
        "| scenario | result | metric | requests | fluid |",
        "|---|---|---|---|---|",
    ]
    for path in sorted(glob.glob("scenarios/*.yaml")):
        scenario = load_scenario(path)
        runs = {Path(path).stem: scenario}
        if scenario.compare:  # each compare: variant as well
            for variant, sc in variants_of(scenario).items():
                runs[f"{Path(path).stem} / {variant}"] = sc
        for name, sc in runs.items():
            lines += _rows(name, sc, args.seeds, args.jobs)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""Extract the numeric cases of Kayenta's own test suites into ``kayenta_cases.json``.

Run once against a checkout of spinnaker/kayenta (the cases are committed, so the tests do
not need it)::

    python tests/rules/data/extract_kayenta_cases.py ClassifierSuite.scala \
        MannWhitneySuite.scala > tests/rules/data/kayenta_cases.json

The files are ``kayenta-judge/src/test/scala/com/netflix/kayenta/judge/ClassifierSuite.scala``
and ``kayenta-mannwhitney/src/test/scala/com/netflix/kayenta/mannwhitney/MannWhitneySuite.scala``.
Each ``test("name")`` block becomes one case keyed by its name: the arrays it declares
(``val x = Array(...)``), the numbers it declares (``val rCiLow = ...``) and, for the
classifier suite, the classifier's arguments, the call's arguments and the asserted results.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

SOURCE = (
    "spinnaker/kayenta a69573be9d8fededacf80817e4151a2c8df41276: ClassifierSuite.scala, "
    "MannWhitneySuite.scala (Apache-2.0); extracted by tests/rules/data/extract_kayenta_cases.py"
)
_TEST = re.compile(r'test\("([^"]+)"\)\s*\{')
_ARRAY = re.compile(r"val (\w+)\s*=\s*Array(?:\[Double\])?\(([^)]*)\)", re.S)
_NUMBER = re.compile(r"val (\w+)\s*=\s*(-?[0-9.]+(?:E-?[0-9]+)?)\s*$", re.M)
_PAIR = re.compile(r"(\w+)\s*=\s*\(\s*([0-9.]+)\s*,\s*([0-9.]+)\s*\)")
_SCALAR = re.compile(r"(tolerance|confLevel)\s*=\s*([0-9.]+)")
_MEASURE = re.compile(r'effectSizeMeasure\s*=\s*"(\w+)"')
_CALL = re.compile(r"classifier\.classify\(([^)]*)\)")
_EXPECT = re.compile(r"assert\(result\.classification == (\w+)\)")
_CRITICAL = re.compile(r"assert\((!?)result\.critical\)")


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.split(r"[\s,]+", text.strip()) if v]


def blocks(source: str) -> dict[str, str]:
    starts = list(_TEST.finditer(source))
    out = {}
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(source)
        out[m.group(1)] = source[m.end() : end]
    return out


def case(body: str) -> dict[str, Any]:
    out: dict[str, Any] = {name: _numbers(values) for name, values in _ARRAY.findall(body)}
    out.update({name: float(v) for name, v in _NUMBER.findall(body)})
    if "new MannWhitneyClassifier" in body:
        ctor = body[body.index("new MannWhitneyClassifier") :].split("val result")[0]
        args: dict[str, Any] = {k: float(v) for k, v in _SCALAR.findall(ctor)}
        args.update({k: [float(a), float(b)] for k, a, b in _PAIR.findall(ctor)})
        measure = _MEASURE.search(ctor)
        if measure:
            args["effectSizeMeasure"] = measure.group(1)
        out["classifier"] = args
        call = _CALL.search(body)
        assert call is not None, body
        given = [a.strip() for a in call.group(1).split(",")]
        out["direction"] = next(a.split(".")[1] for a in given if a.startswith("MetricDirection"))
        nan = [a.split(".")[1] for a in given if a.startswith("NaNStrategy")]
        out["nanStrategy"] = nan[0] if nan else "Remove"
        out["isCriticalMetric"] = "isCriticalMetric = true" in call.group(1)
        expect = _EXPECT.search(body)
        out["expected"] = expect.group(1) if expect else None
        critical = _CRITICAL.search(body)
        if critical:
            out["expectedCritical"] = critical.group(1) != "!"
        if "result.deviation.isNaN" in body:
            out["expectedDeviation"] = "NaN"
        elif "result.deviation == 1.0" in body:
            out["expectedDeviation"] = 1.0
        if "result.reason should not be empty" in body:
            out["expectedReason"] = True
    return out


def main(paths: list[str]) -> None:
    out: dict[str, Any] = {"_source": SOURCE}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            suite = path.rsplit("/", 1)[-1].removesuffix(".scala")
            cases = blocks(f.read())
            # The mean-inequality classifier is not NetflixACAJudge's: not ported.
            out[suite] = {n: case(b) for n, b in cases.items() if "MeanInequality" not in b}
    # One case per line: diffs stay readable, arrays stay on their case's line.
    lines = [f"{json.dumps('_source')}: {json.dumps(out.pop('_source'))}"]
    for suite, cases in out.items():
        body = ",\n  ".join(f"{json.dumps(n)}: {json.dumps(c)}" for n, c in cases.items())
        lines.append(f"{json.dumps(suite)}: {{\n  {body}\n }}")
    sys.stdout.write("{\n " + ",\n ".join(lines) + "\n}\n")


if __name__ == "__main__":
    main(sys.argv[1:])

"""The figure of ``simdeploy policy --plot``: a rollout policy's operating characteristic
(P(rollback) against the regression, with its Wilson 95% band) beside its detection time
(median and p90 over the runs that rolled back).

A front end, as :mod:`simdeploy.plots`: it draws, the CLI saves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def policy_figure(table: pd.DataFrame, kind: str = "errors") -> Figure:
    """Two panels from :func:`simdeploy.policy`'s table (one row per regression)."""
    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    oc, detect = fig.subplots(1, 2)
    x = table["regression"].to_numpy(dtype=float)
    label = "added error rate" if kind == "errors" else f"regression ({kind})"
    p = table["p_rollback"].to_numpy(dtype=float)
    lo = np.array([ci[0] for ci in table["p_rollback_ci95"]])
    hi = np.array([ci[1] for ci in table["p_rollback_ci95"]])
    oc.fill_between(x, lo, hi, alpha=0.25, label="95% CI (Wilson)")
    oc.plot(x, p, marker="o", label="P(rollback)")
    oc.set_ylim(-0.02, 1.02)
    oc.set_xlabel(label)
    oc.set_ylabel("P(rollback)")
    oc.set_title("operating characteristic (at 0: false rollbacks)")
    oc.grid(alpha=0.3)
    oc.legend(loc="lower right")
    median = pd.to_numeric(table["time_to_detect_s"], errors="coerce").to_numpy(dtype=float)
    p90 = pd.to_numeric(table["time_to_detect_s_p90"], errors="coerce").to_numpy(dtype=float)
    detect.plot(x, median, marker="o", label="median")
    detect.plot(x, p90, marker="s", linestyle="--", label="p90")
    detect.set_xlabel(label)
    detect.set_ylabel("time to detect (s)")
    detect.set_title("detection time (runs that rolled back)")
    detect.grid(alpha=0.3)
    detect.legend(loc="upper right")
    return fig

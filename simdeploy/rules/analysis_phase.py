"""Argo Rollouts' analysis phases and their order: the outcome of a measurement, a metric and
a run.

:class:`Phase` is upstream's ``AnalysisPhase``. :data:`PHASE_ORDER`, :func:`is_worse` and
:func:`worst` rank phases as ``utils/analysis/helpers.go`` does, so "the worst phase wins" means
the same in a metric, a run (:mod:`simdeploy.rules.analysis_argo`) and a rollout step that
waits on a run. Pure: no clock, no SimPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Final

__all__ = ["PHASE_ORDER", "Phase", "is_worse", "worst"]


class Phase(StrEnum):
    """An Argo ``AnalysisPhase``; the values are upstream's strings.

    A measurement ends ``Successful``, ``Failed``, ``Inconclusive`` or ``Error``. A metric and a
    run are also ``Pending`` (nothing measured yet) or ``Running`` until they complete.
    """

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    ERROR = "Error"
    INCONCLUSIVE = "Inconclusive"

    @property
    def completed(self) -> bool:
        """True for the four final phases (upstream ``AnalysisPhase.Completed``)."""
        return self not in (Phase.PENDING, Phase.RUNNING)


PHASE_ORDER: Final[tuple[Phase, ...]] = (
    Phase.SUCCESSFUL,
    Phase.RUNNING,
    Phase.PENDING,
    Phase.INCONCLUSIVE,
    Phase.ERROR,
    Phase.FAILED,
)
"""Best to worst, as ``utils/analysis/helpers.go: analysisStatusOrder``."""

_RANK: Final = {p: i for i, p in enumerate(PHASE_ORDER)}


def is_worse(current: Phase, new: Phase) -> bool:
    """Whether ``new`` is strictly worse than ``current`` in :data:`PHASE_ORDER`.

    >>> is_worse(Phase.ERROR, Phase.FAILED), is_worse(Phase.FAILED, Phase.ERROR)
    (True, False)
    """
    return _RANK[new] > _RANK[current]


def worst(phases: Sequence[Phase]) -> Phase:
    """The worst of ``phases`` (the first one on ties); ValueError when empty.

    >>> worst([Phase.SUCCESSFUL, Phase.INCONCLUSIVE, Phase.ERROR])
    <Phase.ERROR: 'Error'>
    """
    if not phases:
        raise ValueError("worst() of no phases")
    out = phases[0]
    for p in phases[1:]:
        if is_worse(out, p):
            out = p
    return out

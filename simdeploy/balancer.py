"""The load balancer: a routing table of endpoints that learns of changes late.

Endpoint changes (pod Ready, NotReady, Terminating) reach the routing table after
``endpoint_propagation_delay`` seconds, as kube-proxy and cloud load balancers learn
of EndpointSlice changes asynchronously. ``route()`` is on the per-request path and
does no allocation; everything else runs on control-plane changes.

``downtime_s`` is integrated here, exactly (not bucketed): the time during which no
listed endpoint can serve (accepting, warmed up, healthy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import simpy

if TYPE_CHECKING:
    from simdeploy.cluster import Pod
    from simdeploy.recorder import Recorder


class Balancer:
    """Plain Service selection over all listed endpoints with a routing policy."""

    def __init__(
        self,
        env: simpy.Environment,
        policy: str,
        propagation_delay_s: float,
        rng: np.random.Generator,
        recorder: Recorder,
    ) -> None:
        self.env = env
        self.policy = policy
        self.delay = propagation_delay_s
        self.recorder = recorder
        self.endpoints: list[Pod] = []
        self.members: set[Pod] = set()
        self.on_change: list[Callable[[], None]] = []
        self._rr = -1
        self._rng = rng
        self._u: list[float] = []
        self._ui = 0
        self.downtime_s = 0.0
        self._down_since: float | None = None
        self.route = {  # bound once: no policy dispatch per request
            "round_robin": self._round_robin,
            "random": self._random,
            "least_outstanding": self._least_outstanding,
        }[policy]

    # -- control plane ----------------------------------------------------------------
    def add_later(self, pod: Pod) -> None:
        self._later(lambda: self.add(pod))

    def remove_later(self, pod: Pod) -> None:
        self._later(lambda: self.remove(pod))

    def _later(self, change: Callable[[], None]) -> None:
        if self.delay <= 0:
            change()
        else:
            self.env.timeout(self.delay).callbacks.append(lambda _e: change())

    def add(self, pod: Pod) -> None:
        if pod not in self.members:
            self.members.add(pod)
            self.endpoints.append(pod)
            self.refresh()

    def remove(self, pod: Pod) -> None:
        if pod in self.members:
            self.members.discard(pod)
            self.endpoints.remove(pod)
            self.refresh()

    def refresh(self) -> None:
        """Re-evaluate serving capacity (downtime clock) and tell the watchers."""
        now = self.env.now
        serving = any(p.can_serve(now) for p in self.endpoints)
        if serving and self._down_since is not None:
            self.downtime_s += now - self._down_since
            self._down_since = None
        elif not serving and self._down_since is None:
            self._down_since = now
        for cb in self.on_change:
            cb()

    def close(self, now: float) -> None:
        """End of run: close an open downtime interval."""
        if self._down_since is not None:
            self.downtime_s += now - self._down_since
            self._down_since = now

    def serving_by_version(self) -> dict[str, int]:
        now = self.env.now
        out: dict[str, int] = {}
        for p in self.endpoints:
            if p.can_serve(now):
                out[p.version] = out.get(p.version, 0) + 1
        return out

    # -- data plane: one call per request ----------------------------------------------
    def _round_robin(self) -> Pod | None:
        eps = self.endpoints
        if not eps:
            return None
        self._rr = (self._rr + 1) % len(eps)
        return eps[self._rr]

    def _random(self) -> Pod | None:
        eps = self.endpoints
        if not eps:
            return None
        i = self._ui
        if i >= len(self._u):
            self._u = self._rng.random(4096).tolist()
            i = 0
        self._ui = i + 1
        return eps[int(self._u[i] * len(eps))]

    def _least_outstanding(self) -> Pod | None:
        eps = self.endpoints
        n = len(eps)
        if not n:
            return None
        # Start the scan one past the last pick so ties rotate instead of piling on eps[0].
        self._rr = (self._rr + 1) % n
        best = eps[self._rr]
        best_load = best.outstanding
        for k in range(1, n):
            p = eps[(self._rr + k) % n]
            load = p.outstanding
            if load < best_load:
                best, best_load = p, load
        return best

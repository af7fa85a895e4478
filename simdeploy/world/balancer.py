"""The load balancer: endpoints that learn of changes late, and a routing table.

Endpoint changes (pod Ready, NotReady, Terminating) reach the balancer after
``endpoint_propagation_delay`` seconds, as kube-proxy and cloud load balancers learn
of EndpointSlice changes asynchronously; routing-table changes (a Service selector
switch, new mesh weights) take the same delay.

The routing table (:class:`Routing`) names replica sets, not pods:

- plain Service selection: one group, every listed endpoint of the selected replica sets
  (all of them by default): Recreate, RollingUpdate, a canary without a traffic router
  (the split then follows the endpoint counts), blue/green's active Service;
- weighted groups (a traffic router: Istio, NGINX, ...): a request picks a group by
  weight, then an endpoint in it; a group with weight but no endpoint fails the request
  (``no_endpoint``, the mesh's "no healthy upstream");
- a user cohort (header match): a fixed share of users always goes to one group;
- a mirror: a share of requests (or of reads) is copied to another group.

``route()`` is on the per-request path; everything else runs on control-plane changes.
``downtime_s`` is integrated here, exactly: the time during which no endpoint that can
receive user traffic can serve it (accepting, warmed up, healthy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import simpy

if TYPE_CHECKING:
    from simdeploy.world.pod import Pod
    from simdeploy.world.recorder import Recorder


@dataclass(frozen=True)
class Mirror:
    """Copy ``share`` of requests (only reads when ``reads_only``) to replica sets ``to``.

    ``separate_database``: the shadow writes to its own database, so its writes are not
    duplicated side effects.
    """

    to: frozenset[str]
    share: float = 1.0
    reads_only: bool = False
    separate_database: bool = False


@dataclass(frozen=True)
class Routing:
    """Where user requests go. Replica sets are named by ``ReplicaSet.name``.

    ``groups`` None: plain Service over ``selector`` (None = every replica set).
    ``groups`` set: (replica sets, weight) pairs; weights are relative (usually sum 100).
    ``cohort``: (users share, replica sets): that fixed share of users always goes there.
    """

    selector: frozenset[str] | None = None
    groups: tuple[tuple[frozenset[str], float], ...] | None = None
    cohort: tuple[float, frozenset[str]] | None = None
    mirror: Mirror | None = None

    @classmethod
    def weighted(cls, weights: dict[str, float], **kw: object) -> Routing:
        """``{"app-v1": 80, "app-v2": 20}`` → two groups of one replica set each."""
        groups = tuple((frozenset([rs]), float(w)) for rs, w in weights.items())
        return cls(groups=groups, **kw)  # type: ignore[arg-type]

    def user_targets(self) -> frozenset[str] | None:
        """Replica sets that can receive user traffic (None: any)."""
        if self.groups is None:
            out = self.selector
        else:
            out = frozenset().union(*(g for g, w in self.groups if w > 0))
        if out is not None and self.cohort is not None and self.cohort[0] > 0:
            out = out | self.cohort[1]
        return out


class _Group:
    """Endpoints of one routing group, with its own round-robin position."""

    __slots__ = ("eps", "rr")

    def __init__(self, eps: list[Pod]) -> None:
        self.eps = eps
        self.rr = -1


class Balancer:
    """Endpoints plus a routing table, with a per-group routing policy."""

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
        self.routing = Routing()
        self.on_change: list[Callable[[], None]] = []
        #: Called before the endpoints (with the pod) or the routing table change (the
        #: fluid data plane counts the traffic that the old state served).
        self.before_change: list[Callable[..., None]] = []
        self.cohort_users: bytearray | None = None
        self._rng = rng
        self._u: list[float] = []
        self._ui = 0
        self._group_cache: dict[frozenset[str] | None, _Group] = {}
        self._single: _Group | None = self._group(None)
        self._groups: list[tuple[float, _Group]] = []
        self._cohort: _Group | None = None
        self.mirror_group: _Group | None = None
        self.downtime_s = 0.0
        self._down_since: float | None = None
        self._pick = {
            "round_robin": self._round_robin,
            "random": self._random,
            "least_outstanding": self._least_outstanding,
        }[policy]

    # -- control plane ----------------------------------------------------------------
    def add_later(self, pod: Pod) -> None:
        self._later(lambda: self.add(pod))

    def remove_later(self, pod: Pod) -> None:
        self._later(lambda: self.remove(pod))

    def set_routing_later(self, routing: Routing) -> None:
        """A selector or weight change; takes effect after the propagation delay."""
        self._later(lambda: self.set_routing(routing))

    def _later(self, change: Callable[[], None]) -> None:
        if self.delay <= 0:
            change()
        else:
            self.env.timeout(self.delay).callbacks.append(lambda _e: change())

    def add(self, pod: Pod) -> None:
        if pod not in self.members:
            for cb in self.before_change:
                cb(pod)
            self.members.add(pod)
            self.endpoints.append(pod)
            for g in self._groups_of(pod):
                g.eps.append(pod)
            self.refresh()

    def remove(self, pod: Pod) -> None:
        if pod in self.members:
            for cb in self.before_change:
                cb(pod)
            self.members.discard(pod)
            self.endpoints.remove(pod)
            for g in self._groups_of(pod):
                g.eps.remove(pod)
            self.refresh()

    def _groups_of(self, pod: Pod) -> list[_Group]:
        """The groups (every one made so far) that select ``pod``: each keeps its endpoints
        up to date on every add and remove, so a refresh need not select them again."""
        name = pod.rs.name
        return [g for names, g in self._group_cache.items() if names is None or name in names]

    def set_routing(self, routing: Routing) -> None:
        if routing != self.routing:
            for cb in self.before_change:
                cb()
            self.routing = routing
            self.recorder.event(self.env.now, "RoutingChanged", "balancer", "", describe(routing))
            self.refresh()

    def _select(self, names: frozenset[str] | None) -> list[Pod]:
        if names is None:
            return list(self.endpoints)
        return [p for p in self.endpoints if p.rs.name in names]

    def _group(self, names: frozenset[str] | None) -> _Group:
        """The group of ``names``; made with its endpoints the first time, then kept (its
        endpoints in ``endpoints`` order, and its round-robin position)."""
        g = self._group_cache.get(names)
        if g is None:
            g = self._group_cache[names] = _Group(self._select(names))
        return g

    def refresh(self) -> None:
        """Point routing at the current table's groups, re-evaluate the downtime clock,
        tell watchers. O(1) per group unless no endpoint serves (then O(endpoints))."""
        r = self.routing
        if r.groups is None:
            self._single = self._group(r.selector)
            self._groups = []
        else:
            total = sum(w for _, w in r.groups) or 1.0
            cum, groups = 0.0, []
            for names, w in r.groups:
                if w > 0:
                    cum += w / total
                    groups.append((cum, self._group(names)))
            self._single = groups[0][1] if len(groups) == 1 else None
            self._groups = groups
        self._cohort = self._group(r.cohort[1]) if r.cohort else None
        self.mirror_group = self._group(r.mirror.to) if r.mirror else None
        now = self.env.now
        targets = r.user_targets()  # no list built: any() stops at the first that serves
        eps = self.endpoints
        serving = any(p.can_serve(now) for p in eps if targets is None or p.rs.name in targets)
        if serving and self._down_since is not None:
            self.downtime_s += now - self._down_since
            self._down_since = None
        elif not serving and self._down_since is None:
            self._down_since = now
        for cb in tuple(self.on_change):  # a copy: a satisfied until() waiter removes itself
            cb()

    def user_endpoints(self) -> list[Pod]:
        """Listed endpoints that user requests can reach under the current routing."""
        targets = self.routing.user_targets()
        return self._select(targets)

    def close(self, now: float) -> None:
        """End of run: close an open downtime interval."""
        if self._down_since is not None:
            self.downtime_s += now - self._down_since
            self._down_since = now

    def serving_by_version(self) -> dict[str, int]:
        now = self.env.now
        out: dict[str, int] = {}
        for p in self.user_endpoints():
            if p.can_serve(now):
                out[p.version] = out.get(p.version, 0) + 1
        return out

    # -- data plane: one call per request ----------------------------------------------
    def route(self, user: int) -> Pod | None:
        """The pod a request of ``user`` goes to, or None (no endpoint)."""
        if self._cohort is not None and self.cohort_users is not None and self.cohort_users[user]:
            return self._pick(self._cohort)
        group = self._single
        if group is None:
            if not self._groups:
                return None
            u = self.uniform()
            for cum, g in self._groups:
                if u < cum:
                    group = g
                    break
            else:
                group = self._groups[-1][1]
        return self._pick(group)

    def uniform(self) -> float:
        i = self._ui
        if i >= len(self._u):
            self._u = self._rng.random(4096).tolist()
            i = 0
        self._ui = i + 1
        return self._u[i]

    def _round_robin(self, g: _Group) -> Pod | None:
        eps = g.eps
        if not eps:
            return None
        g.rr = rr = (g.rr + 1) % len(eps)
        return eps[rr]

    def _random(self, g: _Group) -> Pod | None:
        eps = g.eps
        if not eps:
            return None
        return eps[int(self.uniform() * len(eps))]

    def _least_outstanding(self, g: _Group) -> Pod | None:
        eps = g.eps
        n = len(eps)
        if not n:
            return None
        # Start the scan one past the last pick so ties rotate instead of piling on eps[0].
        g.rr = (g.rr + 1) % n
        best = eps[g.rr]
        best_load = best.outstanding
        for k in range(1, n):
            p = eps[(g.rr + k) % n]
            load = p.outstanding
            if load < best_load:
                best, best_load = p, load
        return best

    # -- fluid data plane: the routing table as shares, once per time step ------------
    def split(self) -> tuple[list[Pod] | None, list[tuple[float, list[Pod]]]]:
        """(the sticky cohort's endpoints, or None; [(share, endpoints)] for every other
        request, shares summing to 1). An empty list of groups: no route at all
        (``no_endpoint``); a group with a share and no endpoint fails its share the same way.
        The lists are the balancer's own: read them, do not change them."""
        cohort = (
            self._cohort.eps if self._cohort is not None and self.cohort_users is not None else None
        )
        if self._single is not None:
            return cohort, [(1.0, self._single.eps)]
        out, last = [], 0.0
        for cum, g in self._groups:
            out.append((cum - last, g.eps))
            last = cum
        return cohort, out

    def pick_mirror(self) -> Pod | None:
        g = self.mirror_group
        return self._pick(g) if g is not None else None


def describe(r: Routing) -> str:
    """Human text of a routing table, for the event log."""
    if r.groups is None:
        out = "service: " + ("all" if r.selector is None else ",".join(sorted(r.selector)))
    else:
        out = "weights: " + ", ".join(f"{'+'.join(sorted(g))}={w:g}" for g, w in r.groups)
    if r.cohort:
        out += f"; cohort {r.cohort[0]:.0%} → {','.join(sorted(r.cohort[1]))}"
    if r.mirror:
        m = r.mirror
        out += (
            f"; mirror {m.share:.0%}{' reads' if m.reads_only else ''} → {','.join(sorted(m.to))}"
        )
    return out

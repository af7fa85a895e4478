"""Runs on a Dask cluster: ``sweep(..., executor=...)`` and ``simdeploy sweep --dask``.

``executor`` is ``"local"`` (a ``LocalCluster`` of local processes, started and stopped
here), a scheduler address (``tcp://host:8786``, an existing cluster), or a
``distributed.Client`` the caller owns. Dask schedules, retries a task whose worker was lost,
and reports each run as it finishes (``as_completed``), which the sweep writes to its cache;
the seeds are the same as anywhere else, so the numbers are too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from simdeploy.spec.base import UsageError


def run_on_dask(
    jobs: list[Any], run_one: Callable[[Any], dict[str, Any]], executor: Any, workers: int = 2
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Each job with ``run_one(job)``, computed on the cluster ``executor`` names."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if isinstance(executor, Client):
        client, own = executor, False
    elif executor == "local":
        cluster = LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, dashboard_address=None
        )
        client, own = Client(cluster), True
    elif isinstance(executor, str) and executor.startswith(("tcp://", "tls://", "inproc://")):
        try:
            client, own = Client(executor, timeout=5), True
        except OSError as exc:
            raise UsageError([f"--dask {executor}: cannot reach the scheduler ({exc})"]) from None
    else:
        raise UsageError(
            [f"--dask {executor!r}: expected 'local' or a scheduler address (tcp://host:8786)"]
        )
    try:
        futures = client.map(run_one, jobs, pure=False, retries=2)
        where = {future.key: job for future, job in zip(futures, jobs, strict=True)}
        for future in as_completed(futures):
            yield where[future.key], future.result()
    finally:
        if own:
            client.close()
        if cluster is not None:
            cluster.close()

"""A scenario's ``manifests:``: real Kubernetes manifests as the source of its policy.

``manifests: [deploy/app.yaml, deploy/hpa.yaml]`` (paths or globs relative to the scenario
file, multi-document files allowed) fills the scenario's ``service:`` section from the
manifests (:mod:`.kubernetes` says what is read). A field the scenario sets itself wins over
the manifest's (``service.strategy`` as a whole). Without ``service.version``, the version
running at t=0 is the first one under ``versions:`` (image tags are not versions).

Kinds: one workload, an ``apps/v1 Deployment`` (:mod:`.kubernetes`) or an Argo ``Rollout``
(:mod:`.argo`, which may take its template from a Deployment by ``workloadRef``), and a
``HorizontalPodAutoscaler`` on it are read, and Argo ``AnalysisTemplate`` /
``ClusterAnalysisTemplate`` (:mod:`.analysis`: each metric bound to a simulator query).
A Flagger ``Canary`` (:mod:`.flagger`) is a workload too, with its ``targetRef`` Deployment;
Flagger's ``MetricTemplate`` is refused for now. Any other kind (``Service``, ``ConfigMap``,
``PodDisruptionBudget``, ``Ingress``, ...) is skipped with a note.

Three kinds of message, each one line starting with ``file:line: manifest.path``:
problems (a value that cannot be used: the scenario is refused), warnings (a field that is
not simulated: ``--strict`` refuses them too) and notes (what was skipped or inferred).
A value the scenario's validation rejects is reported at the manifest line it came from.
"""

"""Pure, table-tested rules: the arithmetic and logic of the real systems, ported.

Kubernetes' and Argo Rollouts' replica arithmetic, Flagger's weight ladder, analysis
conditions and their assessment, PostgreSQL's lock table and migration costs, plan lint,
flag bucketing, durations and distributions. No SimPy, no pandas, no pydantic: plain
functions and small value objects, each tested by tables whose rows are named as upstream
names them. The bottom layer: it imports nothing else of simdeploy.
"""

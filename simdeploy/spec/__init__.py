"""The scenario file: pydantic models, one module per section, and its validation.

Field names are Kubernetes', Argo Rollouts' and Flagger's (camelCase aliases); unknown
keys are errors with a "did you mean"; every error names its field path. Builds on
``rules/`` (durations, int-or-percent validation, condition parsing); no SimPy.
"""

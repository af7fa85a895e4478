"""The control plane: the Deployment controller, rollouts and rollback triggers,
analysis runs, the plan's timed actions, and ``strategies/`` (one file per strategy).

Acts on the world through its cluster (scale replica sets) and balancer (routing,
weights, mirrors); never touches individual requests.
"""

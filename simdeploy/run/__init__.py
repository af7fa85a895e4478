"""One run: build the world and its control plane from a scenario, run it, and turn
the recorder's counters into a :class:`~simdeploy.run.result.Result` (summary, timeline,
events); evaluate a scenario's ``expect:`` block against it.
"""

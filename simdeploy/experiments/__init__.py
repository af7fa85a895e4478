"""Many runs: replications over seeds and comparisons of variants on common random
numbers, with means and 95% confidence intervals.
"""

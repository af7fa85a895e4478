"""The SimPy world of one run: pods and replica sets, the balancer, traffic (the data
plane), the database, feature flags, the recorder, and ``World`` that holds them.

Processes are plain generators with an explicit ``env``. The data plane meets the control
plane at one seam: it reads the balancer's routing table and the pods' states and writes
outcomes to the recorder. Nothing here knows about controllers or strategies.
"""

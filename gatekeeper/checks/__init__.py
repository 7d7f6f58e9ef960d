"""Checks: the gate's evaluation, the SOP audit checklist and the KPI definitions, each over facts.

Nothing here reads a file, the network or the clock: the commands gather facts (`gatekeeper.facts`) and
hand them over. The audit answers the checklist by running the gate's own rules (`gatekeeper.rules`) over
the facts each deployment recorded, so the gate and the audit cannot disagree about a deployment.
"""

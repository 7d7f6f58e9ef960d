"""Facts: what the ledger, git and the workspace say, read once and folded into the values rules take.

`history` folds typed ledger records into one history (deployments paired one way, the latest decision per
approval step, evidence per commit, notices, PIRs, open debts) that the gate, the audit, the KPIs and the
lock all read; `gather` collects the gate's facts through the adapters; `baseline` reads and compares
configuration baselines.
"""

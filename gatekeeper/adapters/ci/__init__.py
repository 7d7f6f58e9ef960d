"""Where a command runs (GitHub Actions, GitLab CI, a workstation): its context and how results are published.

`context` reads the injected environment into a `CiContext`; `publish` writes job summaries, annotations,
outputs, dotenv files and JUnit reports for the platform the job runs on.
"""

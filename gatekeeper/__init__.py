"""gatekeeper: change- and release-governance for CI/CD pipelines."""

__version__ = "0.1.0"

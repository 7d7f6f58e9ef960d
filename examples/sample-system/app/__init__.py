"""민원포털: a small complaints portal used by gatekeeper's demo and tests."""

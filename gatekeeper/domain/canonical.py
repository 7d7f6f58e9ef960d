"""The canonical JSON of a value: the bytes a ledger record's hash and an attestation's audience cover."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Sorted keys, UTF-8, no insignificant whitespace: the bytes that are hashed."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

"""A change request (RFC, 변경요청서) as the rules see it: its content, where it came from, its digest.

The content model (`Rfc`) is validated by the one configuration module (`gatekeeper.config.models`); the
stores (`gatekeeper.adapters.rfcstore`) read it from files or issues. An RFC's approval state is never
read from the RFC itself (DESIGN §2): approvals bind to the digest of its content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

from gatekeeper.config.models import Rfc


@dataclass(frozen=True)
class RfcEntry:
    """One RFC as stored: valid (`rfc` set) or invalid (`error` says why). `where` names its source."""

    id: str
    where: str
    rfc: Rfc | None = None
    error: str = ""
    error_ko: str = ""  # the same reason in Korean (`--lang ko`)

    @cached_property
    def digest(self) -> str:
        """SHA-256 over the canonical JSON of the RFC's content: what approvals bind to."""
        if self.rfc is None:
            return ""
        return rfc_digest(self.rfc)


def rfc_digest(rfc: Rfc) -> str:
    canonical = json.dumps(
        rfc.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()

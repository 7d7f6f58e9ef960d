"""Tokens read the way PyJWT reads them. `domain.attestation.decode_segment` replaces PyJWT's base64url
segment check (a Python loop over every byte, half the time of verifying a ledger's signatures) inside
PyJWT's own decoder: it must accept and refuse exactly what PyJWT does, byte for byte, and the decoder the
gate uses must really be the one that carries it. The attacker writes any token into a record."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gatekeeper.adapters.localissuer import SigningKey
from gatekeeper.domain.attestation import _decoder, decode_segment
from tests.adversarial.conftest import Recorder

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/!. \n\x00"
segments = st.one_of(
    st.binary(max_size=40),
    st.lists(st.sampled_from(list(ALPHABET)), max_size=40).map(bytes),
    st.binary(max_size=40).map(lambda raw: base64.urlsafe_b64encode(raw)),
    st.binary(max_size=40).map(lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=")),
)


def _pyjwt(segment: bytes) -> tuple[str, bytes | str]:
    try:
        return "ok", jwt.PyJWS._decode_base64url_segment(segment, "payload")  # type: ignore[attr-defined]
    except jwt.DecodeError as exc:
        return "refused", str(exc)


def _ours(segment: bytes) -> tuple[str, bytes | str]:
    try:
        return "ok", decode_segment(segment, "payload")
    except jwt.DecodeError as exc:
        return "refused", str(exc)


@given(segment=segments)
@example(segment=b"!!!!")  # GHSA-hxm8-2xgr-2p9m
@example(segment=b"QQ===")  # three pads
@example(segment=b"QQ=")  # padding where the length does not allow it
@example(segment=b"QR")  # a non-canonical encoding of "A"
@example(segment=b"A")  # a length no encoding has
@example(segment=b"")
def test_segments_are_read_as_pyjwt_reads_them(segment: bytes) -> None:
    assert _ours(segment) == _pyjwt(segment)


def _token(key: SigningKey, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})


def test_the_gate_decoder_refuses_tampered_tokens(reliability: Recorder) -> None:
    key = SigningKey.generate("k1")
    public = jwt.PyJWK(key.jwk, algorithm="RS256").key
    token = _token(key, {"iss": "https://issuer", "aud": "a", "sub": "x"})
    decoder = _decoder()
    assert decoder._jws._decode_base64url_segment is decode_segment  # our check is the one in effect
    ok = decoder.decode(token, key=public, algorithms=["RS256"], audience="a")
    assert ok["sub"] == "x"
    header, payload, signature = token.split(".")
    forged_claims = base64.urlsafe_b64encode(
        json.dumps({"iss": "https://issuer", "aud": "a", "sub": "y"}).encode()
    )
    none = base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=")
    cases = {
        "payload swapped under the signature": f"{header}.{forged_claims.decode().rstrip('=')}.{signature}",
        "junk characters in the signature": f"{header}.{payload}.{signature[:-4]}!!!!",
        "a padded payload that is not canonical": f"{header}.{payload}==.{signature}",
        "a fourth segment": f"{token}.e30",
        "alg none": f"{none}.{payload}.",
    }
    for name, forged in cases.items():
        with pytest.raises(jwt.InvalidTokenError):
            decoder.decode(forged, key=public, algorithms=["RS256"], audience="a")
        reliability.row(name, "forged token", "refused: the token does not verify")

"""Masking: phone numbers and secrets, and the process-wide log redaction."""

from __future__ import annotations

from nextcaller_ops.redact import mask_phone, mask_secret


def test_mask_phone():
    assert mask_phone("2125558383") == "212***8383"
    assert mask_phone("12") == "***"


def test_mask_secret():
    assert mask_secret("EG2D22B98D2232253SE3") == "EG2D…3SE3"
    assert "abc" not in mask_secret("abcdef")

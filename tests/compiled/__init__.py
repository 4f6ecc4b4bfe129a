"""Tests of the compiled executor; ``ordered`` compares responses with their key order."""

from __future__ import annotations

from typing import Any


def ordered(value: Any) -> Any:
    """``value`` with each dict as its list of items: compared, keys must come in the same
    order (a response's keys follow the selection's order)."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value

"""Size limits on what the API stores, checked before anything is written.

Plain Python (no Strawberry, no database): the use cases call these and report a typed
error (a userError with the reference's error key) when a limit is passed, so that a
value never fails later inside the driver (``DocumentTooLarge``), the interpreter
(``RecursionError``) or a job. The README's "Limits" section lists the same numbers.
"""

from __future__ import annotations

from typing import Any

import bson

MAX_JSON_DEPTH = 20
"""Nesting levels of objects and arrays in a JSON value (event properties, attribute
values, supplements); ``{"a": {"b": 1}}`` is 2 levels deep."""

MAX_STRING_LENGTH = 10_000
"""Characters of one string attribute value (or one array item); patterns run on no more."""

MAX_CONTACT_BYTES = 1_048_576
"""BSON size of a stored contact (attributes, channels, cart, supplements...): 1 MiB."""

MAX_ACTIVITY_BYTES = 262_144
"""BSON size of one stored activity (its properties, mostly): 256 KiB."""


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests objects/arrays more than ``limit`` levels; iterative, so any
    depth is measured without recursion."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def bson_size(doc: dict[str, Any]) -> int:
    """The stored size of ``doc`` in bytes."""
    return len(bson.encode(doc))


def describe_bytes(size: int) -> str:
    return f"{size / 1024:.0f} KiB" if size < 1_048_576 else f"{size / 1_048_576:.1f} MiB"


def over_limit(doc: dict[str, Any], limit: int, what: str) -> str | None:
    """None when ``doc`` is stored in ``limit`` bytes or fewer; else what is wrong, e.g.
    "the event would take 300 KiB; an event is at most 256 KiB"."""
    size = bson_size(doc)
    if size <= limit:
        return None
    article = "an" if what[0] in "aeiou" else "a"
    return (
        f"the {what} would take {describe_bytes(size)}; {article} {what} is at most {describe_bytes(limit)}"
    )

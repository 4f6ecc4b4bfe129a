"""Event properties: stripping unusable keys and recording the first type seen.

Reference rules: at most 1,000 properties; keys that are numeric-only or contain a
period are stripped (we strip ``$``-prefixed keys too, at every depth, and report them
all); the first data type seen for a property of an action is recorded, and values of
another type are kept but are not searchable.
"""

from __future__ import annotations

import re
from typing import Any

MAX_PROPERTIES = 1000
_NUMERIC = re.compile(r"^[0-9]+$")


def _unusable(key: str) -> bool:
    return not key or bool(_NUMERIC.match(key)) or "." in key or key.startswith("$") or "\x00" in key


def strip_keys(properties: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The properties without unusable keys (at any depth), and the stripped key paths."""
    stripped: list[str] = []

    def clean(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                key = str(key)
                where = f"{path}.{key}" if path else key
                if _unusable(key):
                    stripped.append(where)
                    continue
                out[key] = clean(item, where)
            return out
        if isinstance(value, list):
            return [clean(item, path) for item in value]
        return value

    result: dict[str, Any] = clean(properties, "")
    return result, stripped


def type_of(value: Any) -> str | None:
    """The recorded data type of a property value (None for null: it says nothing)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    return "array"

"""Custom scalars: DateTime (ISO 8601, UTC) and a sanitised JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, NewType

import bson.tz_util
import orjson
import strawberry
from bson import ObjectId
from strawberry.types.scalar import ScalarDefinition

from app.sizes import MAX_JSON_DEPTH, too_deep


def parse_datetime(value: object) -> datetime:
    """ISO 8601 (with ``Z`` or an offset) or ``YYYY-MM-DD HH:MM:SS``; naive values are UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(
                f"Invalid date-time {value!r}: use ISO 8601 (2025-01-09T17:47:43Z) or 'YYYY-MM-DD HH:MM:SS'"
            ) from exc
    else:
        raise ValueError(f"Invalid date-time {value!r}: expected a string")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# Unix timestamps accepted where a reference sends them (Ongage's from_date/to_date):
# seconds from 1970-01-01 to 9999-12-31.
_MAX_TIMESTAMP = 253_402_300_799


def parse_datetime_or_timestamp(value: object) -> datetime:
    """An ISO 8601 date-time (as ``parse_datetime``) or a Unix timestamp in seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value <= _MAX_TIMESTAMP:
            raise ValueError(f"Invalid timestamp {value!r}: seconds from 1970 to 9999")
        return datetime.fromtimestamp(value, tz=UTC)
    return parse_datetime(value)


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: ``2025-01-09T17:47:43.000Z``. A naive value is
    taken as UTC. Stored values are UTC already (the driver's ``utc``): no conversion and
    no call of its Python ``utcoffset`` for them, once per date rendered. orjson writes the
    text (a third of what ``isoformat`` costs, which formats through ``printf`` and parses its
    keyword); the microseconds it writes are cut to milliseconds, as ``isoformat`` does."""
    zone = value.tzinfo
    if zone is not None and zone is not _DRIVER_UTC and zone is not UTC and value.utcoffset() != _ZERO:
        value = value.astimezone(UTC)
    if type(value) is not datetime:  # a subclass: orjson writes only datetime itself
        return _isoformat(value)
    text = orjson.dumps(value, option=_ORJSON_UTC)  # b'"YYYY-MM-DDTHH:MM:SS[.ffffff]Z"'
    if len(text) == 29:
        return text[1:24].decode() + "Z"
    if len(text) == 22:  # no fraction: microsecond 0
        return text[1:20].decode() + ".000Z"
    return _isoformat(value.astimezone(UTC) if zone is not None else value)  # any other text


def _isoformat(value: datetime) -> str:
    if value.tzinfo is None:
        return value.isoformat(timespec="milliseconds") + "Z"
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # without its "+00:00"


_ORJSON_UTC = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
_ZERO = timedelta(0)
_DRIVER_UTC = bson.tz_util.utc


def to_json_value(value: Any) -> Any:
    """Stored values → JSON-safe values (dates as ISO strings, ObjectIds as hex)."""
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, ObjectId):
        return str(value)
    return value


def sanitize_json(value: Any, path: str = "") -> Any:
    """Reject keys that could reach a query as an operator or a path (``$x`` and ``a.b``) and
    values nested deeper than MAX_JSON_DEPTH."""
    if too_deep(value):
        raise ValueError(f"JSON values nest at most {MAX_JSON_DEPTH} levels of objects and arrays")
    return _sanitize(value, path)


def _sanitize(value: Any, path: str) -> Any:
    if isinstance(value, dict):
        clean: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or key.startswith("$") or "." in key or "\x00" in key:
                raise ValueError(f"Invalid key {key!r} at {path or 'the top level'}")
            clean[key] = _sanitize(item, f"{path}.{key}" if path else key)
        return clean
    if isinstance(value, list):
        return [_sanitize(v, path) for v in value]
    return value


DateTime = NewType("DateTime", datetime)
DateTimeOrTimestamp = NewType("DateTimeOrTimestamp", datetime)
JSON = NewType("JSON", object)
Properties = NewType("Properties", object)


def parse_properties(value: Any) -> Any:
    """Event properties arrive as-is: the use case strips unusable keys and reports them."""
    return value


# The schema maps these types to GraphQL scalars (StrawberryConfig.scalar_map).
SCALAR_MAP: dict[object, ScalarDefinition] = {
    DateTime: strawberry.scalar(
        name="DateTime",
        serialize=format_datetime,
        parse_value=parse_datetime,
        description=(
            "An instant in UTC, ISO 8601 (2025-01-09T17:47:43.000Z). "
            "Inputs also accept '2025-01-09 17:47:43' and offsets; naive values are UTC."
        ),
    ),
    DateTimeOrTimestamp: strawberry.scalar(
        name="DateTimeOrTimestamp",
        serialize=format_datetime,
        parse_value=parse_datetime_or_timestamp,
        description=(
            "An instant: a DateTime (ISO 8601) or a Unix timestamp in seconds (1593118800), "
            "as Ongage's report dates are sent."
        ),
    ),
    JSON: strawberry.scalar(
        name="JSON",
        serialize=to_json_value,
        parse_value=sanitize_json,
        description=(
            "A JSON value (attribute values, event properties, supplements). "
            "Object keys may not start with '$' or contain '.'."
        ),
    ),
    Properties: strawberry.scalar(
        name="Properties",
        serialize=to_json_value,
        parse_value=parse_properties,
        description=(
            "Event properties: a JSON object of at most 1,000 keys. Keys that are numeric-only, contain "
            "'.' or start with '$' are stripped (at any depth) and listed in strippedKeys."
        ),
    ),
}

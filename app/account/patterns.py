"""Attribute ``pattern`` validators, run by RE2: linear time in the value, whatever the pattern.

Python's ``re`` backtracks: ``(a+)+$`` against forty ``a`` and a ``!`` runs for hours, on
the event loop, and freezes every tenant. RE2 never backtracks; the price is that it has
no backreferences and no look-around, so such patterns are refused when the attribute is
defined (``PatternError``), and a stored pattern RE2 cannot compile refuses the write
instead of running somewhere else. Values are bounded before any pattern runs
(``MAX_STRING_LENGTH`` in ``app.sizes``).
"""

from __future__ import annotations

import functools

import re2

MAX_PATTERN_LENGTH = 1_000
_MAX_MEMORY = 1 << 20  # bytes of RE2 program per pattern; a larger one fails to compile


class PatternError(ValueError):
    """The pattern cannot be used as a validator; the message says why."""


def _options() -> re2.Options:
    options = re2.Options()
    options.max_mem = _MAX_MEMORY
    options.log_errors = False  # the error is raised (and reported to the caller), not logged
    return options


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re2._Regexp[str]:
    """The compiled validator; raises PatternError for what RE2 refuses or is too long."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"patterns are at most {MAX_PATTERN_LENGTH} characters")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise PatternError(f"{reason} (patterns use RE2 syntax: no backreferences or look-around)") from None


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` contains a match of ``pattern`` (``re.search`` semantics)."""
    return compile_pattern(pattern).search(value) is not None

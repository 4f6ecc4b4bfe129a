"""Which function runs each kind of job."""

from __future__ import annotations

from . import exports, imports, reports
from .runner import Handler

HANDLERS: dict[str, Handler] = {
    imports.KIND: imports.run_import,
    exports.KIND: exports.run_profile_export,
    reports.KIND: reports.run_report,
}

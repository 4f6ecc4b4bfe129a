"""Authenticated, account-scoped downloads of job results, streamed chunk by chunk:
/downloads/jobs/{id} (a profile export) and /downloads/reports/{id}/aggregated.csv and
/detailed.csv. Anything not of the caller's account is a 404, like anything missing."""

from __future__ import annotations

from bson import ObjectId
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from app.auth import ANONYMOUS, Principal, ScopeName
from app.context import Services
from app.db import object_id
from app.tenant import Tenant

from . import repository
from .reports import get_report


def _principal(request: Request) -> Principal:
    principal: Principal = request.scope.get("state", {}).get("principal", ANONYMOUS)
    return principal


def _tenant(request: Request) -> Tenant:
    services: Services = request.app.state.services
    return Tenant(_principal(request).account_id, services.db)


def _error(status: int, message: str, code: str) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


async def _stream(request: Request, file_id: ObjectId | None, filename: str) -> Response:
    stored = await repository.open_file(_tenant(request), file_id) if file_id else None
    if stored is None:
        return _error(404, "Not found (or expired: results are kept 10 days)", "NOT_FOUND")
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Content-Length": str(stored.length),
    }
    return StreamingResponse(stored.chunks, media_type=stored.content_type, headers=headers)


async def job_download(request: Request) -> Response:
    principal = _principal(request)
    if not principal.allows(ScopeName.CONTACTS_READ):
        return _error(403, "This download requires the 'contacts:read' scope", "FORBIDDEN")
    job_id = object_id(request.path_params["job_id"])
    job = await repository.get(_tenant(request), job_id) if job_id else None
    result = (job or {}).get("result") or {}
    return await _stream(request, result.get("fileId"), str(result.get("filename", "result")))


async def report_download(request: Request) -> Response:
    principal = _principal(request)
    if not principal.allows(ScopeName.REPORTS):
        return _error(403, "This download requires the 'reports' scope", "FORBIDDEN")
    report_id = object_id(request.path_params["report_id"])
    which = request.path_params["which"]
    report = await get_report(_tenant(request), report_id) if report_id else None
    file_id = ((report or {}).get("files") or {}).get(which)
    return await _stream(request, file_id, f"report-{report_id}-{which}.csv")


ROUTES = [
    Route("/downloads/jobs/{job_id}", job_download),
    Route("/downloads/reports/{report_id}/{which:str}.csv", report_download),
]

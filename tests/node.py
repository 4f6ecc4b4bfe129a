"""Node.js for the tests that run JavaScript clients (tests/js: the GraphQL-over-HTTP audit
and the README's snippets), installed from its committed lock file when it changed."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

JS = Path(__file__).parent / "js"


async def run(*command: str, cwd: Path = JS, timeout: float = 300) -> bytes:  # noqa: ASYNC109
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode == 0, f"{' '.join(command)}: {err.decode()[-2000:]}"
    return out


async def node_modules() -> Path:
    """tests/js with its packages installed (``npm ci`` when the lock is newer)."""
    npm = shutil.which("npm")
    assert npm, "the JavaScript tests need Node.js and npm: run `make browser`"
    assert shutil.which("node"), "the JavaScript tests need Node.js and npm: run `make browser`"
    installed = JS / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (JS / "package-lock.json").stat().st_mtime:
        await run(npm, "ci", "--no-audit", "--no-fund", "--silent")
    return JS

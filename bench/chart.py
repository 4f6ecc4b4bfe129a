"""The scaling chart of `make bench`: p50 latency and database commands per request against
the account size, one line per workload, system and engine (an SVG in docs/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt

SHOWN = ("Q1", "Q2", "Q3", "L_email", "L_cID")


def draw(report: dict[str, Any], path: Path) -> None:
    summary = report["scaling"]
    sizes = summary["sizes"]
    engine = report["engine"]
    figure, (latency, commands) = plt.subplots(1, 2, figsize=(12, 5))
    for label, row in summary["series"].items():
        name, system = label.split("/")
        if name not in SHOWN:
            continue
        style = "-" if system == "gateway" else "--" if system == "floor" else ":"
        line = f"{name} {system} ({engine})"
        latency.plot(sizes, [row["p50_ms"][n] for n in sizes], style, marker="o", label=line)
        counted = [row["commands"][n] for n in sizes]
        if all(c is not None for c in counted):
            commands.plot(sizes, counted, style, marker="o", label=line)
    for axis, title, unit in ((latency, "p50 latency, one request at a time", "ms"),
                              (commands, "database commands per request", "commands")):  # fmt: skip
        axis.set_xscale("log")
        axis.set_xticks(sizes, [f"{n:,}" for n in sizes])
        axis.set_xlabel("contacts in the account")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
    latency.set_yscale("log")
    commands.legend(fontsize=7, loc="upper left")
    latency.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    path.parent.mkdir(exist_ok=True)
    figure.savefig(path)
    plt.close(figure)

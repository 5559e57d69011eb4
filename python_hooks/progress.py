"""The progress of ``precompute run``'s dbt build on the terminal, drawn with rich.

One line per finished node, ``[i/n] STATUS type name (time)``, where i/n counts
the finished nodes out of those dbt selected (the on-run-start hooks are shown
apart, ``[hook] ...``); nodes skipped after a failure are summed up in one line
at the end. ``live`` (a terminal) adds colours and a status bar under the lines:
the running nodes, the count and the elapsed time. Without it the output is the
plain lines, for logs. Thread-safe: dbt fires events from its worker threads.
"""

from __future__ import annotations

import threading
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

STATUS_LABELS = {"success": "OK", "pass": "PASS", "fail": "FAIL", "error": "ERROR",
                 "skipped": "SKIP", "warn": "WARN", "no-op": "NO-OP"}
LABEL_STYLES = {"OK": "green", "PASS": "green", "FAIL": "bold red", "ERROR": "bold red",
                "SKIP": "yellow", "WARN": "yellow"}


def _seconds(t: float | None) -> str:
    return f"({t:.2f}s)" if t is not None else ""


def _label(status: str | None, failures: int | None) -> str:
    label = STATUS_LABELS.get(status or "", (status or "?").upper())
    if status in ("fail", "warn") and failures is not None:
        label += f" {failures}"
    return label


class BuildProgress:
    """Renders the dbt events of ``python_hooks.dbt_runner`` (``handle`` is its ``on_event``)."""

    def __init__(self, stream: TextIO, live: bool):
        self.console = Console(file=stream, force_terminal=live, no_color=not live, markup=False,
                               highlight=False, soft_wrap=True)
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=self.console, transient=True, disable=not live)
        self.task = self.bar.add_task("parsing the dbt project ...", total=None)
        self.total: int | None = None
        self.done = 0
        self.running: dict[str, str] = {}
        self.finished: set[str] = set()
        self.skipped: list[str] = []
        self._lock = threading.Lock()

    def __enter__(self) -> "BuildProgress":
        self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.stop()
        if self.skipped:
            self.console.print(f"[{self.done}/{self.total or self.done}] SKIP    {len(self.skipped)} nodes "
                               f"(downstream of a failure), e.g. {', '.join(self.skipped[:3])}")

    def handle(self, ev: Any) -> None:
        if ev.name not in ("LogStartLine", "NodeFinished", "SkippingDetails", "LogHookEndLine"):
            return
        with self._lock:
            if ev.total and ev.name != "LogHookEndLine":
                self.total = ev.total
            if ev.name == "LogStartLine":
                self.running[ev.unique_id] = f"{ev.resource_type} {ev.node_name}"
            elif ev.name == "LogHookEndLine":
                self._line("[hook] ", _label(ev.status, None), f"on-run-start {ev.node_name} "
                           f"{_seconds(ev.execution_time)}")
            elif ev.unique_id not in self.finished:
                self.finished.add(ev.unique_id)
                self.running.pop(ev.unique_id, None)
                self.done += 1
                if ev.status == "skipped":  # downstream of a failure: counted, summed up at the end
                    self.skipped.append(ev.node_name)
                else:
                    width = len(str(self.total)) if self.total else 3
                    self._line(f"[{self.done:>{width}d}/{self.total or 0}] ", _label(ev.status, ev.failures),
                               f"{ev.resource_type or '':<9s} {ev.node_name} {_seconds(ev.execution_time)}")
            names = list(self.running.values())
            doing = ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")
            self.bar.update(self.task, total=self.total, completed=self.done, description=doing or "dbt build")

    def _line(self, prefix: str, label: str, rest: str) -> None:
        self.console.print(Text.assemble(prefix, (f"{label:<7s}", LABEL_STYLES.get(label.split()[0], "")), " ",
                                          rest))

"""Where one request's or one analysis's CPU goes, measured in this process by wrapping functions.

``StageTimer.wrap("record", "commit_digest.intake:record_push")`` replaces the function
everywhere it is referenced in a loaded module (``from x import f`` makes copies of the name)
or, for ``Class.method``, on the class, with a wrapper that adds the thread's CPU and wall
time to the stage. ``restore()`` puts the originals back. Nothing is changed on disk; a name that no
longer exists (the product moves on) is skipped and reported as missing.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stage:
    cpu: float = 0.0
    wall: float = 0.0
    calls: int = 0


@dataclass
class StageTimer:
    stages: dict[str, Stage] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def wrap(self, label: str, target: str) -> None:
        """Time every call of ``target`` (``module:function`` or ``module:Class.method``)."""
        module_name, _, qualname = target.partition(":")
        try:
            owner: Any = importlib.import_module(module_name)
            *path, name = qualname.split(".")
            for part in path:
                owner = getattr(owner, part)
            original = getattr(owner, name)
        except (ImportError, AttributeError):
            self.missing.append(f"{label} ({target})")
            return
        stage = self.stages.setdefault(label, Stage())

        def timed(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                stage.cpu += time.thread_time() - cpu
                stage.wall += time.perf_counter() - wall
                stage.calls += 1

        if path:  # a method: the class is the one place to patch
            setattr(owner, name, timed)
            self._undo.append(lambda: setattr(owner, name, original))
            return
        for module in list(sys.modules.values()):
            for attribute, value in list(getattr(module, "__dict__", {}).items()):
                if value is original:
                    setattr(module, attribute, timed)
                    self._undo.append(
                        lambda module=module, attribute=attribute: setattr(
                            module, attribute, original
                        )
                    )

    def reset(self) -> None:
        for stage in self.stages.values():
            stage.cpu = stage.wall = 0.0
            stage.calls = 0

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()

    @contextmanager
    def wrapped(self, targets: dict[str, str]) -> Iterator[StageTimer]:
        try:
            for label, target in targets.items():
                self.wrap(label, target)
            yield self
        finally:
            self.restore()

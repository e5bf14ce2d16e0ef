"""Progress for long work on stderr: a tqdm bar shown only on a terminal, only after about 2 s, never with
``--json`` or ``--quiet`` (so pipes, CI logs and JSON consumers see nothing)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: seconds of work before a bar appears (short runs print nothing)
DELAY = 2.0

Progress = Callable[[int, int], None]


def wanted(args: Any, stream: Any = None) -> bool:
    """Whether to show progress: stderr is a terminal and neither ``--quiet`` nor ``--json`` was given."""
    stream = sys.stderr if stream is None else stream
    if getattr(args, "quiet", False) or getattr(args, "json", False):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def progress_bar(args: Any, unit: str = "terms", stream: Any = None) -> Iterator[Progress | None]:
    """A ``progress(done, total)`` callback drawing a tqdm bar (rate and time left), or None when not wanted.

    >>> import argparse
    >>> with progress_bar(argparse.Namespace(quiet=True)) as progress:
    ...     progress is None
    True
    """
    if not wanted(args, stream):
        yield None
        return
    from tqdm import tqdm  # only when a bar is drawn

    bar = tqdm(total=0, unit=unit, unit_scale=True, delay=DELAY, leave=False, file=stream or sys.stderr,
               dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        bar.close()

"""Completion of file paths in an Input: the first folder or importable file that starts with what is typed
(right arrow or end accepts it, as for any Textual suggestion). `~` is kept as typed."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable

from textual.suggester import Suggester

MAX_ENTRIES = 2000  # a huge folder: look at its first entries only (a suggestion, not a listing)


def expand(text: str) -> str:
    """What a user typed as a path: surrounding spaces and quotes (a pasted path) dropped, `~` expanded."""
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return os.path.expanduser(value)


def complete(typed: str, suffixes: Iterable[str]) -> str | None:
    """The typed path completed with the first (sorted) folder or file with one of `suffixes` it starts;
    a folder gets its trailing separator. None when nothing matches or the path is complete."""
    if not typed or typed.endswith(("'", '"')):
        return None
    folder, prefix = os.path.split(typed)
    real = expand(folder) if folder else "."
    wanted = tuple(s.lower() for s in suffixes)
    names: list[str] = []
    try:
        with os.scandir(real) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_ENTRIES:
                    break
                if not entry.name.startswith(prefix) or (entry.name.startswith(".") and not prefix.startswith(".")):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                if is_dir:
                    names.append(entry.name + os.sep)
                elif entry.name.lower().endswith(wanted):
                    names.append(entry.name)
    except OSError:
        return None
    for name in sorted(names):
        if name != prefix:
            return os.path.join(folder, name) if folder else name
    return None


class PathSuggester(Suggester):
    """Suggests folders and files with the given suffixes (read in a thread: a slow disk never blocks keys)."""

    def __init__(self, suffixes: Iterable[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.suffixes = tuple(suffixes)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete, value, self.suffixes)

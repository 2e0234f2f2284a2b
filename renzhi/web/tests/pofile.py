"""A tiny reader of gettext .po files (polib is not a dependency), enough to check catalogues."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def read_po(path: Path) -> list[Entry]:
    """Entries of a .po file (blank-line separated), without the header and obsolete entries."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None

    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry.msgid:
                entries.append(entry)
            entry, target = Entry(), None
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            entry.flags |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#:"):
            entry.references += line[2:].split()
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            _append(entry, target, ast.literal_eval(line))
        else:
            keyword, _, rest = line.partition(" ")
            target = (
                ("msgstr", int(keyword[7:-1])) if keyword.startswith("msgstr[") else (keyword, 0)
            )
            _append(entry, target, ast.literal_eval(rest), start=True)
    return entries


def _append(entry: Entry, target: tuple[str, int] | None, text: str, start: bool = False) -> None:
    if target is None:
        return
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] = ("" if start else entry.msgstr.get(index, "")) + text
    elif name == "msgid":
        entry.msgid = ("" if start else entry.msgid) + text
    elif name == "msgid_plural":
        entry.msgid_plural = ("" if start else entry.msgid_plural or "") + text
    elif name == "msgctxt":
        entry.msgctxt = ("" if start else entry.msgctxt or "") + text

"""'Nothing outside changed': what is under some folders, taken before and after something ran, to compare."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def snapshot(*roots: Path, skip: Path | None = None, contents_only: bool = False) -> dict[str, tuple]:
    """What is under ``roots``, keyed by path, equal before and after only if nothing there changed.

    By default every folder, file and link, not following links and leaving out ``skip`` (a folder or a
    file): a file by its content and modification time, a link by where it points, a folder by being there.

    With ``contents_only``, the content of every file and nothing else: a root may itself be a file, missing
    roots are left out, links to files are read through, and ``__pycache__`` folders are left out (Python
    writes bytecode there when a grading imports the package, which is not the submission changing it);
    ``skip`` is for the full snapshot only.
    """
    assert skip is None or not contents_only, "skip applies to the full snapshot only"
    found = {}
    for root in roots:
        if contents_only:
            if root.is_file():
                found[str(root)] = (_sha256(root),)
            elif root.exists():
                found.update(
                    {
                        str(path): (_sha256(path),)
                        for path in sorted(root.rglob("*"))
                        if path.is_file() and "__pycache__" not in path.parts
                    }
                )
            continue
        for folder, folders, files in os.walk(root):
            if skip is not None and Path(folder) == skip:
                folders[:] = []
                continue
            for name in folders + files:
                path = Path(folder) / name
                if path == skip:
                    continue
                if path.is_symlink():
                    found[str(path)] = ("link", os.readlink(path))
                elif path.is_file():
                    found[str(path)] = (_sha256(path), path.stat().st_mtime_ns)
                else:
                    found[str(path)] = ("folder",)
    return found


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

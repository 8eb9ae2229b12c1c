"""The folders vosbench ships beside its code: ``notebooks/``, ``parameters/`` and ``queries/``.

They stay at the top of the repository, where readers look for them; ``vosbench/_data``
links to them, and the wheel carries their files as package data there. Everything finds
them through :mod:`importlib.resources`, so an installed wheel works as a clone does.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def folder(name: str) -> Path:
    """The shipped folder ``name`` (``notebooks``, ``parameters`` or ``queries``) as a path."""
    return Path(str(files("vosbench") / "_data" / name))


def notebook(name: str) -> Path:
    """A shipped notebook, e.g. ``monthly_audit.ipynb``."""
    return folder("notebooks") / name


def parameters(*parts: str) -> Path:
    """A shipped parameter file, e.g. ``parameters("controls.yaml")``."""
    return folder("parameters").joinpath(*parts)

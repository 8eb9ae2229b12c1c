"""A YAML file a person wrote, read safely, and its error in one line where they can find it.

PyYAML words an error over several lines, with a caret; and a value its resolver takes for a
date but the calendar lacks (``start: 2026-02-30``) escapes it as a bare ValueError ("day is out
of range for month") naming neither the file nor the place. :func:`load` reads with the safe
loader and turns such a value into a YAML error at its place, so every loader reports it as it
reports any other, through :func:`described`.
"""

from __future__ import annotations

import yaml


class _Loader(yaml.SafeLoader):
    """The safe loader, whose impossible dates and times are errors at their place in the file."""

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a date or time there is ({error}); write a real one, "
                            "or quote it to keep it as text", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def load(text: str | bytes):
    """``text`` read as YAML by the safe loader (a :class:`yaml.YAMLError` for anything it cannot read)."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no Python objects are built


def described(error: yaml.YAMLError) -> str:
    """``error`` as ``line L, column C: what is wrong`` (the place where PyYAML found the problem)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return where + " ".join(str(problem).split())

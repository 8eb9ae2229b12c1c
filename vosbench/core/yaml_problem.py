"""A YAML file's error in one line, where a person can find it: PyYAML words it over several lines, with a caret."""

from __future__ import annotations

import yaml


def described(error: yaml.YAMLError) -> str:
    """``error`` as ``line L, column C: what is wrong`` (the place where PyYAML found the problem)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return where + " ".join(str(problem).split())

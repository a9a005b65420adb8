"""The rule catalog: one module per rule (or small family), each documenting itself."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .base import Rule


@cache
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class, sorted by code (modules are discovered, not listed by hand)."""
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and getattr(value, "code", None):
                found[value.code] = value
    return tuple(found[c] for c in sorted(found))


@cache
def fixable_codes(unsafe: bool) -> frozenset[str]:
    """Codes of the rules with an autofix: with `unsafe`, any; without, those whose fixes can
    be safe (the only ones a report shows without `--unsafe-fixes`)."""
    return frozenset(r.code for r in all_rules() if r.fixable == "safe" or (unsafe and r.fixable != "none"))


def rule_by_code(code: str) -> type[Rule] | None:
    code = code.upper()
    return next((r for r in all_rules() if r.code == code), None)

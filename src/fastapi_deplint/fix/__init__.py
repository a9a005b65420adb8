"""Autofix with libcst: `check --fix`, `--diff`, `--unsafe-fixes`.

One module per rule fixer (`fdl701.py`, ...) plus the machinery: `base` (the file context a
fixer reads and the `Plan` it returns), `imports` (spelling and adding `Annotated`,
`lru_cache`, `Iterator`), `apply` (one libcst pass per file, result checked before anything
may be written) and `driver` (the lint -> fix -> lint loop, in memory until the end, and the
`fix` objects of the reports). Each rule's `fixable` class attribute says how safe its best
fix is; each plan carries its own applicability (a fix can be safe for one shape and unsafe
for another).
"""

from __future__ import annotations

from .base import Fixer
from .fdl101 import ReturnToYield
from .fdl102 import CleanupInFinally
from .fdl203 import CacheSettings
from .fdl301 import MakeAsync
from .fdl403 import PassTheFunction
from .fdl701 import DependsToAnnotated

FIXERS: dict[str, Fixer] = {
    fixer.code: fixer
    for fixer in (
        ReturnToYield(),
        CleanupInFinally(),
        CacheSettings(),
        MakeAsync(),
        PassTheFunction(),
        DependsToAnnotated(),
    )
}

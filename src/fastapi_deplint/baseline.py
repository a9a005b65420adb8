"""The baseline: today's findings recorded in a file so that only new ones are reported.

For adopting the linter on a large codebase. An entry is keyed by the file (relative to the
baseline file's folder, `/`-separated), the code, the enclosing symbol (`Finding.symbol`:
the function, class or module-level name the finding sits in) and the message with every
number blanked out — never by line or column, so the baseline survives edits elsewhere in
the file. Each key carries a count: two identical findings in one function need two entries,
and a third one appearing later is reported.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .rules.base import Finding

VERSION = 1
_NUMBER = re.compile(r"\d+")

Key = tuple[str, str, str, str]  # (path, code, symbol, message)


class BaselineError(Exception):
    """An unreadable or malformed baseline file."""


def normalise_message(message: str) -> str:
    """Line numbers and counts in a message (`defined at deps.py:12`) must not break a match."""
    return _NUMBER.sub("#", message)


def relative_path(path: str, base: Path) -> str:
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(base.resolve()).as_posix()
    except ValueError:
        try:
            return Path(os.path.relpath(absolute, base.resolve())).as_posix()
        except ValueError:  # another drive
            return absolute.as_posix()


def key(finding: Finding, base: Path) -> Key:
    return (relative_path(finding.path, base), finding.code, finding.symbol, normalise_message(finding.message))


def fingerprint(finding: Finding, base: Path) -> str:
    """A stable hash of the key (also SARIF's `partialFingerprints`)."""
    return hashlib.sha256("\0".join(key(finding, base)).encode("utf-8")).hexdigest()[:32]


@dataclass(slots=True)
class Baseline:
    path: Path
    counts: Counter[Key]

    @property
    def base(self) -> Path:
        return self.path.resolve().parent

    def filter(self, findings: list[Finding]) -> tuple[list[Finding], int]:
        """Drop the findings the baseline covers; returns (kept, number dropped)."""
        remaining = Counter(self.counts)
        kept: list[Finding] = []
        dropped = 0
        for f in findings:
            k = key(f, self.base)
            if remaining[k] > 0:
                remaining[k] -= 1
                dropped += 1
            else:
                kept.append(f)
        return kept, dropped


def load(path: Path) -> Baseline:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: not a fastapi-deplint baseline (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path}: not a fastapi-deplint baseline (expected {{\"version\": {VERSION}, \"findings\": [...]}})")
    counts: Counter[Key] = Counter()
    for i, entry in enumerate(data["findings"]):
        try:
            k = (str(entry["path"]), str(entry["code"]), str(entry.get("symbol", "")), normalise_message(str(entry["message"])))
            count = int(entry.get("count", 1))
        except (TypeError, KeyError, ValueError, AttributeError):
            raise BaselineError(f"{path}: malformed entry #{i + 1}: {entry!r}") from None
        counts[k] += max(count, 0)
    return Baseline(path, counts)


def write(path: Path, findings: list[Finding]) -> int:
    """Record `findings` (sorted, one entry per key with its count); returns how many."""
    base = path.resolve().parent
    counts = Counter(key(f, base) for f in findings)
    entries = [
        {"path": p, "code": c, "symbol": s, "message": m, **({"count": n} if n > 1 else {})}
        for (p, c, s, m), n in sorted(counts.items())
    ]
    text = json.dumps({"version": VERSION, "findings": entries}, indent=2, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return sum(counts.values())

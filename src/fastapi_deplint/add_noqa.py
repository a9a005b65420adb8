"""`--add-noqa`: suppress every current finding with a `# noqa: CODE` comment on its line.

Edits are made on bytes, so the file's encoding, line endings (`\\n`, `\\r\\n`, `\\r`) and every
other byte are kept. An existing `# noqa: X` is extended (`# noqa: X, FDL101`), a bare
`# noqa` already covers everything, and running it twice changes nothing. A comment cannot
go on a line that ends inside a multi-line string or with a `\\` continuation: those are
reported as skipped (move the statement, or use the baseline).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .rules.base import Finding

_NOQA = re.compile(rb"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_ENDING = re.compile(rb"(\r\n|\n|\r)$")
UNSUPPRESSIBLE = {"FDL900": "an internal error", "FDL901": "a file that cannot be parsed"}


@dataclass(slots=True)
class NoqaResult:
    added: int = 0  # findings newly covered
    files: list[str] = field(default_factory=list)  # files changed
    skipped: list[tuple[str, int, str]] = field(default_factory=list)  # (path, line, why)


def _lines_inside_strings(data: bytes) -> set[int]:
    """Lines that end inside a multi-line token (a triple-quoted string or f-string)."""
    inside: set[int] = set()
    try:
        open_fstrings: list[int] = []
        for tok in tokenize.tokenize(io.BytesIO(data).readline):
            name = tokenize.tok_name.get(tok.type, "")
            if name == "FSTRING_START":
                open_fstrings.append(tok.start[0])
            elif name == "FSTRING_END" and open_fstrings:
                start = open_fstrings.pop()
                inside.update(range(start, tok.end[0]))
            elif tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0], tok.end[0]))
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    return inside


def _edit_line(line: bytes, codes: list[str]) -> tuple[bytes, int] | None:
    """The line with `codes` added to its noqa comment and how many were new; None when
    nothing changes."""
    ending_match = _ENDING.search(line)
    ending = ending_match.group(1) if ending_match else b""
    content = line[: len(line) - len(ending)]
    match = _NOQA.search(content)
    if match is not None:
        existing_raw = match.group("codes")
        if existing_raw is None:
            return None  # a bare `# noqa` suppresses every code already
        existing = [c.decode("ascii") for c in re.split(rb"[,\s]+", existing_raw) if c]
        covered = {c.upper() for c in existing}
        new = [c for c in codes if not any(c.startswith(e) for e in covered)]
        if not new:
            return None
        merged = ", ".join([*existing, *new]).encode("ascii")
        return content[: match.start("codes")] + merged + content[match.end("codes") :] + ending, len(new)
    stripped = content.rstrip(b" \t")
    return stripped + b"  # noqa: " + ", ".join(codes).encode("ascii") + ending, len(codes)


def add_noqa(findings: list[Finding]) -> NoqaResult:
    result = NoqaResult()
    by_file: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for f in findings:
        if f.code in UNSUPPRESSIBLE:
            result.skipped.append((f.path, f.line, f"{f.code} reports {UNSUPPRESSIBLE[f.code]}: noqa cannot silence it"))
            continue
        codes = by_file[f.path][f.line]
        if f.code not in codes:
            codes.append(f.code)
    for path, lines_codes in sorted(by_file.items()):
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as exc:
            for line in lines_codes:
                result.skipped.append((path, line, f"cannot read: {exc.strerror or exc}"))
            continue
        lines = data.splitlines(keepends=True)
        unsafe = _lines_inside_strings(data)
        changed = False
        for number, codes in sorted(lines_codes.items()):
            if not 1 <= number <= len(lines):
                result.skipped.append((path, number, "line not in file"))
                continue
            original = lines[number - 1]
            if number in unsafe:
                result.skipped.append((path, number, "the line ends inside a multi-line string"))
                continue
            if original.rstrip(b"\r\n").rstrip().endswith(b"\\"):
                result.skipped.append((path, number, "the line ends with a backslash continuation"))
                continue
            edited = _edit_line(original, sorted(codes))
            if edited is not None:
                lines[number - 1], added = edited
                result.added += added
                changed = True
        if changed:
            try:
                file.write_bytes(b"".join(lines))
            except OSError as exc:
                result.skipped.append((path, 0, f"cannot write: {exc.strerror or exc}"))
                continue
            result.files.append(path)
    return result

#!/usr/bin/env python3
"""Print the per-rule and overall precision of a triage record (stdlib only).

usage: python scripts/triage_summary.py [triage/pypi.csv] [--by-source]

The CSV has the columns source,file,line,code,verdict,why with verdict TP or FP.
Precision = TP / (TP + FP).
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent / "triage" / "pypi.csv"


def precision(tp: int, fp: int) -> str:
    return f"{tp / (tp + fp):.0%}" if tp + fp else "-"


def table(title: str, counts: dict[str, Counter[str]]) -> list[str]:
    width = max([len(title), 7, *(len(k) for k in counts)])
    lines = [f"{title:<{width}}  {'TP':>4}  {'FP':>4}  {'total':>5}  precision", "-" * (width + 30)]
    total: Counter[str] = Counter()
    for key in sorted(counts):
        c = counts[key]
        total.update(c)
        lines.append(f"{key:<{width}}  {c['TP']:>4}  {c['FP']:>4}  {c['TP'] + c['FP']:>5}  {precision(c['TP'], c['FP']):>9}")
    lines.append("-" * (width + 30))
    lines.append(f"{'overall':<{width}}  {total['TP']:>4}  {total['FP']:>4}  {total['TP'] + total['FP']:>5}  {precision(total['TP'], total['FP']):>9}")
    return lines


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    path = Path(args[0]) if args else DEFAULT
    by_rule: dict[str, Counter[str]] = {}
    by_source: dict[str, Counter[str]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            verdict = row["verdict"].strip().upper()
            if verdict not in ("TP", "FP"):
                print(f"skipping row with verdict {row['verdict']!r}: {row['file']}:{row['line']}", file=sys.stderr)
                continue
            by_rule.setdefault(row["code"], Counter())[verdict] += 1
            by_source.setdefault(row["source"], Counter())[verdict] += 1
    print("\n".join(table("rule", by_rule)))
    if "--by-source" in argv:
        print()
        print("\n".join(table("source", by_source)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Lint the PyPI triage corpus and compare the findings with the triage record.

usage: python scripts/triage_run.py CORPUS_SRC [--codes FDL5,FDL202] [--record triage/pypi.csv]
                                    [--only NAME] [--stale]

CORPUS_SRC is the folder the projects were unpacked into (see triage/README.md). For every
finding of the default rules (or `--codes` prefixes) it prints whether the record has a verdict
for it: `new` lines need triage, `TP`/`FP` lines are known. `--stale` also lists record rows
that the linter no longer reports (fixed false positives, or lost true positives). Exit 1 when
some finding is untriaged.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

RECORD = Path(__file__).resolve().parent.parent / "triage" / "pypi.csv"

# (source as written in the record, folder linted, relative to CORPUS_SRC)
CORPUS = [
    ("fastapi-admin==1.0.4", "fastapi-admin"),
    ("fastapi-users==15.0.5", "fastapi-users/fastapi_users-15.0.5"),
    ("opal-server==0.9.9", "opal-server"),
    ("chainlit==2.12.0", "chainlit/chainlit-2.12.0"),
    ("lnbits==1.6.2", "lnbits/lnbits-1.6.2"),
    ("open-webui==0.12.4", "open-webui"),
    ("gradio==6.31.0", "gradio/gradio-6.31.0"),
    ("langflow-base==1.13.0", "langflow-base"),
    ("prefect==3.9.1", "prefect/prefect-3.9.1"),
    ("apache-airflow-core==3.3.2", "apache-airflow-core/apache_airflow_core-3.3.2"),
    ("zenml==0.98.0", "zenml"),
    ("mlflow==3.18.0", "mlflow/mlflow-3.18.0"),
    ("litellm==1.109.1", "litellm"),
]

Key = tuple[str, str, int, str]


def load_record(path: Path) -> dict[Key, tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            (row["source"], row["file"], int(row["line"]), row["code"]): (row["verdict"], row["why"])
            for row in csv.DictReader(handle)
        }


def lint(root: Path, codes: str | None) -> list[dict[str, object]]:
    cmd = [sys.executable, "-m", "fastapi_deplint", "check", str(root), "--output-format", "json", "--exit-zero"]
    if codes:
        cmd += ["--select", codes]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode not in (0, 1):
        print(f"!! {root}: exit {out.returncode}: {out.stderr.strip()[:500]}", file=sys.stderr)
    return json.loads(out.stdout or "[]")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--codes", default=None, help="comma-separated code prefixes (default: the default rules)")
    parser.add_argument("--record", type=Path, default=RECORD)
    parser.add_argument("--only", default=None, help="lint only the project whose name starts with this")
    parser.add_argument("--stale", action="store_true")
    args = parser.parse_args()
    record = load_record(args.record)
    prefixes = tuple(c.strip() for c in args.codes.split(",")) if args.codes else None
    seen: set[Key] = set()
    untriaged = 0
    linted: set[str] = set()
    for source, folder in CORPUS:
        if args.only and not source.startswith(args.only):
            continue
        root = args.corpus / folder
        if not root.is_dir():
            print(f"-- {source}: {root} missing, skipped", file=sys.stderr)
            continue
        linted.add(source)
        top = folder.split("/", 1)[0]
        for f in lint(root, args.codes):
            if f["code"].startswith("FDL9"):
                print(f"!! {source} {f['path']}:{f['line']} {f['code']} {f['message']}")
                continue
            rel = Path(str(f["path"])).resolve().relative_to((args.corpus / top).resolve()).as_posix()
            key = (source, rel, int(f["line"]), str(f["code"]))
            seen.add(key)
            verdict = record.get(key, ("new", ""))[0]
            untriaged += verdict == "new"
            print(f"{verdict:3}  {source}  {rel}:{f['line']}  {f['code']}  {f['message']}")
    if args.stale:
        for key, (verdict, why) in sorted(record.items()):
            if key[0] in linted and key not in seen and (prefixes is None or key[3].startswith(prefixes)):
                print(f"gone {verdict}  {key[0]}  {key[1]}:{key[2]}  {key[3]}  ({why[:80]})")
    print(f"{len(seen)} findings, {untriaged} untriaged", file=sys.stderr)
    return 1 if untriaged else 0


if __name__ == "__main__":
    sys.exit(main())

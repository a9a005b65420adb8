"""Regenerate docs/rules.md from the rules' docstrings: `python scripts/gen_rules_page.py`."""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi_deplint.report.rules_page import render

PAGE = Path(__file__).resolve().parent.parent / "docs" / "rules.md"

if __name__ == "__main__":
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(render(), encoding="utf-8", newline="\n")
    sys.stdout.write(f"wrote {PAGE}\n")

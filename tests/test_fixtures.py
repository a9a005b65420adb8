"""Every rule's fixtures, collected in one parametrised test."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixture_harness import diff, expected, fixture_dirs


@pytest.mark.parametrize("root", fixture_dirs(), ids=lambda p: p.name)
def test_fixture(root: Path) -> None:
    problems = diff(root)
    assert not problems, f"fixture {root.name} differs from its `# expect:` markers:\n{problems}"


def test_every_default_rule_has_a_failing_fixture() -> None:
    from fastapi_deplint.rules import all_rules

    codes_with_expectations = {code for root in fixture_dirs() for _, _, code in expected(root)}
    missing = [r.code for r in all_rules() if r.code not in codes_with_expectations]
    assert not missing, f"rules without any `# expect:` fixture line: {missing}"

"""`--output-format junit`: JUnit XML for CI test reports; one test suite per file, one
failed test case per finding (a single passing case when there is nothing to report)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from ..rules.base import Finding


def render(findings: list[Finding]) -> str:
    root = ET.Element("testsuites", name="fastapi-deplint", tests=str(max(len(findings), 1)),
                      failures=str(len(findings)), errors="0")
    if not findings:
        suite = ET.SubElement(root, "testsuite", name="fastapi-deplint", tests="1", failures="0", errors="0", skipped="0")
        ET.SubElement(suite, "testcase", name="fastapi-deplint", classname="fastapi-deplint")
    ordered = sorted(findings, key=lambda f: f.sort_key)
    for path, group in groupby(ordered, key=lambda f: f.path):
        items = list(group)
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(len(items)), failures=str(len(items)),
                              errors="0", skipped="0")
        for f in items:
            case = ET.SubElement(suite, "testcase", name=f"{f.code} at {path}:{f.line}:{f.col + 1}",
                                 classname=path, file=path, line=str(f.line))
            failure = ET.SubElement(case, "failure", message=f.message, type=f.code)
            failure.text = f"{path}:{f.line}:{f.col + 1}: {f.code} {f.message}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

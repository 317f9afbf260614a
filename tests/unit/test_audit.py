"""`make audit`'s verdict on pip-audit's JSON report (scripts/audit.py); the audit itself needs the network."""

from __future__ import annotations

from scripts.audit import verdict

CLEAN = {"name": "fastapi", "version": "0.120.0", "vulns": []}
LOCAL_BUILD = {"name": "torch", "skip_reason": "Dependency not found on PyPI and could not be audited: torch (2.13.0+cpu)"}


def vuln(vid: str, fixes: list[str]) -> dict:
    return {"id": vid, "fix_versions": fixes, "aliases": []}


def test_a_vulnerability_with_a_fix_fails_and_names_the_fixed_version():
    report = {"dependencies": [CLEAN, {"name": "jinja2", "version": "3.1.2", "vulns": [vuln("GHSA-h5c8-rqwp-cp95", ["3.1.3"])]}]}
    status, lines = verdict(report)
    assert status == 1
    assert "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in "\n".join(lines)


def test_a_vulnerability_without_a_fix_is_reported_but_does_not_fail():
    report = {"dependencies": [CLEAN, {"name": "py", "version": "1.11.0", "vulns": [vuln("PYSEC-2022-42969", [])]}]}
    status, lines = verdict(report)
    assert status == 0
    assert any("py 1.11.0: PYSEC-2022-42969 (no fixed version yet)" in line for line in lines)


def test_packages_that_could_not_be_looked_up_fail_instead_of_passing():
    """pip-audit itself prints "No known vulnerabilities found" and exits 0 when every lookup failed."""
    skipped = [{"name": n, "skip_reason": f"Dependency not found on PyPI and could not be audited: {n} (1.0)"} for n in ("a", "b")]
    status, lines = verdict({"dependencies": [CLEAN, *skipped, LOCAL_BUILD]})
    assert status == 2
    assert lines[-1].startswith("make audit could not look up 2 of 4 installed packages") and lines[-1].endswith(".")


def test_a_local_build_is_listed_not_failed_on():
    status, lines = verdict({"dependencies": [CLEAN, LOCAL_BUILD]})
    assert status == 0
    assert lines[0] == f"not audited (local build): {LOCAL_BUILD['skip_reason']}"
    assert lines[-1] == "make audit passed: 1 packages audited, none with a fixable known vulnerability."

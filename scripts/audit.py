"""`make audit`: pip-audit over the packages installed in this venv; fails on known vulnerabilities with a fix.

pip-audit alone exits 1 on any known vulnerability, fixed upstream or not, and exits 0 with "No known
vulnerabilities found" when it could look up none of the packages (each one "skipped"). This wrapper reads
its JSON report so that `make audit` fails on what an upgrade fixes, reports what nothing fixes yet, and
fails with one sentence when the lookup did not happen, instead of passing on an audit that checked nothing.

Exit status: 0 clean, 1 a vulnerability with a fix available, 2 the audit could not be done.
Extra arguments go to pip-audit (e.g. `make audit AUDIT_ARGS="-s osv"`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

PIP_AUDIT = [sys.executable, "-m", "pip_audit", "--local", "--skip-editable", "--progress-spinner", "off",
             "--desc", "off", "--format", "json"]


def _is_local_build(skip_reason: str) -> bool:
    """A local version label (torch 2.13.0+cpu) is never published under that version, so never found."""
    version = re.search(r"\(([^()\s]+)\)\s*$", skip_reason)
    return bool(version and "+" in version.group(1))


def verdict(report: dict) -> tuple[int, list[str]]:
    """Exit status and the lines to print for one pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    not_looked_up = [d for d in skipped if not _is_local_build(d["skip_reason"])]
    lines = [f"not audited (local build): {d['skip_reason']}" for d in skipped if _is_local_build(d["skip_reason"])]
    fixable, unfixed = [], []
    for dependency in dependencies:
        for vuln in dependency.get("vulns", []):
            line = f"{dependency['name']} {dependency.get('version', '?')}: {vuln.get('id', '?')}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(f"{line} (no fixed version yet)")
    lines += [f"vulnerable, no fix yet: {line}" for line in unfixed]
    lines += [f"vulnerable: {line}" for line in fixable]
    if not_looked_up:
        lines.append(
            f"make audit could not look up {len(not_looked_up)} of {len(dependencies)} installed packages "
            f"(first: {not_looked_up[0]['skip_reason']}), so it proves nothing: run it where pip-audit's "
            "vulnerability service is reachable."
        )
        return 2, lines
    if fixable:
        lines.append(f"make audit failed: {len(fixable)} known vulnerabilities have a fix; raise the lower bounds "
                     "in pyproject.toml to the fixed versions.")
        return 1, lines
    lines.append(f"make audit passed: {len(dependencies) - len(skipped)} packages audited, none with a fixable "
                 "known vulnerability.")
    return 0, lines


def main(extra: list[str]) -> int:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        run = subprocess.run([*PIP_AUDIT, "--output", str(output), *extra], capture_output=True, text=True)
        if run.returncode not in (0, 1) or not output.exists():
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"make audit could not run pip-audit (exit {run.returncode}): {last}", file=sys.stderr)
            return 2
        status, lines = verdict(json.loads(output.read_text()))
    for line in lines:
        print(line, file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The README's configuration table matches the settings the code reads."""

import re

from pydantic import BaseModel, SecretStr

from rag.config import Settings
from tests.conftest import ROOT


def test_every_setting_is_documented_with_its_default():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(NEWSRAG_[A-Z_]+)` \| ([^|]+) \|", readme, re.MULTILINE))
    expected = set()
    for name, field in Settings.model_fields.items():
        variable = f"NEWSRAG_{name.upper()}"
        expected.add(variable)
        assert variable in rows, f"{variable} is missing from the README's configuration table"
        default = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            # A policy object: its scalar fields are documented one row each (NEWSRAG_VERIFIER__THRESHOLD).
            for sub, value in default.model_dump().items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    row = f"{variable}__{sub.upper()}"
                    expected.add(row)
                    assert row in rows, f"{row} is missing from the README's configuration table"
                    assert rows[row].strip().strip("`") == f"{value:g}", row
            continue
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        shown = rows[variable].strip().strip("`")
        if default is None:
            assert shown == "unset", variable
        else:
            assert shown == (f"{default:g}" if isinstance(default, float) else str(default)), variable
    assert set(rows) == expected, "README documents a setting that does not exist"


def test_readme_gives_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme

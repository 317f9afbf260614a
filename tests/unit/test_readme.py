"""The README's configuration table matches the settings the code reads."""

import re

from pydantic import SecretStr

from rag.config import Settings
from tests.conftest import ROOT


def test_every_setting_is_documented_with_its_default():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(NEWSRAG_[A-Z_]+)` \| ([^|]+) \|", readme, re.MULTILINE))
    for name, field in Settings.model_fields.items():
        variable = f"NEWSRAG_{name.upper()}"
        assert variable in rows, f"{variable} is missing from the README's configuration table"
        default = field.get_default(call_default_factory=True)
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        shown = rows[variable].strip().strip("`")
        if default is None:
            assert shown == "unset", variable
        else:
            assert shown == (f"{default:g}" if isinstance(default, float) else str(default)), variable
    assert set(rows) == {f"NEWSRAG_{n.upper()}" for n in Settings.model_fields}, "README documents a setting that does not exist"


def test_readme_gives_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme

"""docs/noun-verb.md is generated from the handler tables: the committed file must match."""

from __future__ import annotations

from cimmeter.service.docs import DOC_PATH, render
from cimmeter.service.mdm import MDM_ROLE
from tests.conftest import REPO


def test_committed_noun_verb_table_equals_the_generated_one() -> None:
    committed = (REPO / DOC_PATH).read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/noun-verb.md is stale: run `python -m cimmeter.service.docs --write`"
    )


def test_the_table_names_every_handler_of_the_mdm() -> None:
    text = render([MDM_ROLE])
    for spec in MDM_ROLE.handlers:
        assert f"- **{spec.verb} {spec.noun}**: {spec.summary}" in text
    row = next(line for line in text.splitlines() if line.startswith("| MeterReadings |"))
    header = next(line for line in text.splitlines() if line.startswith("| Noun |"))
    cells = dict(zip(header.split("|")[2:-1], row.split("|")[2:-1], strict=True))
    assert cells[" get "] == " mdm* "
    assert cells[" created "] == " mdm "
    assert cells[" delete "] == "  "

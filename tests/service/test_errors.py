"""The error-code table: data, complete, unverified, replaceable (digest 6.7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cimmeter.message.envelope import ErrorLevel, IDKind
from cimmeter.model.identity import ObjectRef
from cimmeter.service.errors import ErrorCodeTable, ErrorTableError, Problem


def test_packaged_table_has_a_row_for_every_problem_and_marks_all_unverified() -> None:
    table = ErrorCodeTable.load()
    assert set(table.rows) == {p.value for p in Problem}
    assert not any(row.verified for row in table.rows.values())
    codes = [row.code for row in table.rows.values()]
    assert len(codes) == len(set(codes)), "two problems share a code"


def test_codes_follow_the_digest_reconstruction() -> None:
    table = ErrorCodeTable.load()
    assert table.row(Problem.OK).code == "0.0"
    assert table.row(Problem.ACCEPTED).code == "0.3"
    assert table.row(Problem.UNSUPPORTED_OPERATION).code.startswith("1.")
    assert table.row(Problem.OBJECT_NOT_FOUND).code.startswith("2.")
    assert table.row(Problem.INTERNAL_ERROR).level is ErrorLevel.CATASTROPHIC


def test_store_reject_codes_map_to_problems() -> None:
    table = ErrorCodeTable.load()
    assert table.problem_of_store_code("unknown-meter") is Problem.OBJECT_NOT_FOUND
    assert table.problem_of_store_code("malformed-reading-type") is Problem.MALFORMED_CODE
    assert table.problem_of_store_code("duplicate-event") is Problem.OBJECT_EXISTS
    assert table.problem_of_store_code("something-new") is Problem.INVALID_ELEMENT


def test_error_puts_the_path_in_details_and_the_object_in_id() -> None:
    table = ErrorCodeTable.load()
    error = table.error(
        Problem.OBJECT_NOT_FOUND,
        "no Meter with mRID m-1",
        path="/MeterReadings/MeterReading[2]",
        object_ref=ObjectRef(mrid="m-1"),
        object_type="Meter",
    )
    assert error.code == "2.2"
    assert error.level is ErrorLevel.FATAL
    assert error.details == "/MeterReadings/MeterReading[2]: no Meter with mRID m-1"
    assert error.xpath is None  # a QName, never a path (DECISIONS.md)
    assert error.id is not None
    assert (error.id.value, error.id.kind, error.id.object_type) == ("m-1", IDKind.uuid, "Meter")
    by_name = table.error(Problem.OBJECT_NOT_FOUND, object_ref=ObjectRef(name="M-17"))
    assert by_name.id is not None and (by_name.id.value, by_name.id.kind) == ("M-17", IDKind.name)


def _write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "codes.csv"
    header = "symbol,code,level,reason,store_codes,verified,note"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _all_rows(code_of: dict[str, str]) -> list[str]:
    return [
        f"{p.value},{code_of.get(p.value, 'X' + str(i))},FATAL,r,,verified,"
        for i, p in enumerate(Problem)
    ]


def test_a_configured_table_replaces_the_packaged_one(tmp_path: Path) -> None:
    table = ErrorCodeTable.load(_write(tmp_path, _all_rows({"object-not-found": "E404"})))
    assert table.error(Problem.OBJECT_NOT_FOUND).code == "E404"
    assert table.row(Problem.OK).verified


def test_an_incomplete_table_is_refused(tmp_path: Path) -> None:
    rows = _all_rows({})[:-1]
    with pytest.raises(ErrorTableError, match="no row for"):
        ErrorCodeTable.load(_write(tmp_path, rows))


def test_a_bad_level_is_refused_with_its_row(tmp_path: Path) -> None:
    rows = _all_rows({})
    rows[0] = rows[0].replace("FATAL", "SEVERE")
    with pytest.raises(ErrorTableError, match="row 2: level 'SEVERE'"):
        ErrorCodeTable.load(_write(tmp_path, rows))


def test_a_missing_file_says_which(tmp_path: Path) -> None:
    with pytest.raises(ErrorTableError, match=r"nowhere\.csv"):
        ErrorCodeTable.load(tmp_path / "nowhere.csv")

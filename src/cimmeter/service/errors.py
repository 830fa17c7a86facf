"""Reply/Error codes as data, and the exceptions of the service layer (digest 6.4, 6.7).

The 61968-100 code table is not public; `data/error_codes.csv` holds the digest's
reconstruction, every row marked unverified, and `ServiceConfig.error_codes` replaces it. Code in
this package names a problem by its stable symbol (`Problem.OBJECT_NOT_FOUND`); the table turns
the symbol into `code`, `level` and a default `reason`. The store reports rejected items with its
own reject codes (`unknown-meter`, ...), which the table's `store_codes` column maps to rows.

An `Error` cimmeter writes follows digest 6.7 rule 4: `reason` short, `details` the specifics
starting with the element path (`/MeterReadings/MeterReading[3]: ...`), `ID` the object's mRID
(kind `uuid`) or name (kind `name`) with its CIM class as `objectType`; `xpath` stays empty
because it is an `xs:QName`, not a path (DECISIONS.md, digest 6.4).
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cimmeter.message.envelope import ID, Error, ErrorLevel, IDKind
from cimmeter.model.identity import ObjectRef


class Problem(enum.StrEnum):
    """Every problem the service reports; each is one row of the error-code table."""

    OK = "ok"
    MORE_RESULTS_FOLLOW = "more-results-follow"
    LAST_RESULT = "last-result"
    ACCEPTED = "accepted"
    MALFORMED_MESSAGE = "malformed-message"
    INVALID_MESSAGE = "invalid-message"
    UNSUPPORTED_OPERATION = "unsupported-operation"
    MISSING_HEADER_DATA = "missing-header-data"
    DUPLICATE_MESSAGE = "duplicate-message"
    NO_IDEMPOTENCY_KEY = "no-idempotency-key"
    MESSAGE_WARNING = "message-warning"
    INVALID_ELEMENT = "invalid-element"
    OBJECT_NOT_FOUND = "object-not-found"
    OBJECT_AMBIGUOUS = "object-ambiguous"
    OBJECT_EXISTS = "object-exists"
    INVALID_RELATIONSHIP = "invalid-relationship"
    INVALID_TIME_RANGE = "invalid-time-range"
    TIME_RANGE_TOO_LONG = "time-range-too-long"
    MALFORMED_CODE = "malformed-code"
    INVALID_VALUE = "invalid-value"
    TIMESTAMP_WITHOUT_ZONE = "timestamp-without-zone"
    RESULT_TRUNCATED = "result-truncated"
    DUPLICATE_ITEM = "duplicate-item"
    TIME_RANGE_ASSUMED = "time-range-assumed"
    UNKNOWN_CORRELATION = "unknown-correlation"
    INVALID_STATE = "invalid-state"
    INTERNAL_ERROR = "internal-error"
    PEER_UNAVAILABLE = "peer-unavailable"
    REQUEST_EXPIRED = "request-expired"
    REPLY_ADDRESS_NOT_ALLOWED = "reply-address-not-allowed"


class ServiceError(Exception):
    """Base of the service layer's exceptions."""


class ErrorTableError(ServiceError):
    """An error-code table file that cannot be used (missing column, unknown level, gaps)."""


@dataclass(frozen=True, slots=True)
class ErrorCodeRow:
    symbol: str
    code: str
    level: ErrorLevel
    reason: str
    store_codes: tuple[str, ...]
    verified: bool
    note: str


_COLUMNS = ("symbol", "code", "level", "reason", "store_codes", "verified", "note")
DEFAULT_TABLE = "error_codes.csv"


class ErrorCodeTable:
    """Problem symbol -> (code, level, reason); builds `Error`s (see the module docstring)."""

    def __init__(self, rows: Iterable[ErrorCodeRow], *, origin: str = "<rows>") -> None:
        self.origin = origin
        self.rows: dict[str, ErrorCodeRow] = {}
        self._by_store_code: dict[str, ErrorCodeRow] = {}
        for row in rows:
            if row.symbol in self.rows:
                raise ErrorTableError(f"{origin}: symbol {row.symbol!r} appears twice")
            self.rows[row.symbol] = row
            for store_code in row.store_codes:
                self._by_store_code[store_code] = row
        missing = [p.value for p in Problem if p.value not in self.rows]
        if missing:
            raise ErrorTableError(
                f"{origin}: no row for {', '.join(missing)} (every Problem needs a code)"
            )

    @classmethod
    def load(cls, path: str | Path | None = None) -> ErrorCodeTable:
        """The table in `path`, or the packaged reconstruction (digest 6.7) when None."""
        if path is None:
            text = resources.files("cimmeter.service").joinpath("data", DEFAULT_TABLE)
            origin = f"cimmeter/service/data/{DEFAULT_TABLE}"
            return cls(_parse(text.read_text(encoding="utf-8"), origin), origin=origin)
        file = Path(path)
        try:
            content = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ErrorTableError(f"{file}: cannot read the error-code table: {exc}") from None
        return cls(_parse(content, str(file)), origin=str(file))

    def row(self, problem: Problem | str) -> ErrorCodeRow:
        return self.rows[str(problem)]

    def problem_of_store_code(self, store_code: str) -> Problem:
        """The problem a store reject code stands for (an unmapped code: invalid element)."""
        row = self._by_store_code.get(store_code)
        return Problem(row.symbol) if row is not None else Problem.INVALID_ELEMENT

    def error(
        self,
        problem: Problem | str,
        details: str | None = None,
        *,
        path: str | None = None,
        reason: str | None = None,
        level: ErrorLevel | None = None,
        object_ref: ObjectRef | None = None,
        object_id: str | None = None,
        object_type: str | None = None,
    ) -> Error:
        """An `Error` for a problem. `details` is prefixed by `path` (`/A/B[2]: details`); the
        object is identified by `object_ref` (its mRID, else its name) or a plain `object_id`."""
        row = self.row(problem)
        text = details
        if path:
            text = f"{path}: {details}" if details else path
        return Error(
            code=row.code,
            level=level or row.level,
            reason=reason or row.reason,
            details=text,
            id=_error_id(object_ref, object_id, object_type),
        )


def _error_id(ref: ObjectRef | None, object_id: str | None, object_type: str | None) -> ID | None:
    if ref is not None:
        if ref.mrid:
            return ID(value=ref.mrid, kind=IDKind.uuid, object_type=object_type)
        if ref.name:
            return ID(
                value=ref.name, kind=IDKind.name, id_type=ref.name_type, object_type=object_type
            )
        return ID(
            value=ref.serial_number,
            kind=IDKind.other,
            id_type="serialNumber",
            object_type=object_type,
        )
    if object_id is not None:
        return ID(value=object_id, object_type=object_type)
    return None


def _parse(text: str, origin: str) -> list[ErrorCodeRow]:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(lines)
    if reader.fieldnames is None or tuple(reader.fieldnames) != _COLUMNS:
        raise ErrorTableError(
            f"{origin}: columns are {reader.fieldnames}, expected {', '.join(_COLUMNS)}"
        )
    rows = []
    for number, record in enumerate(reader, start=2):
        rows.append(_row(record, f"{origin} row {number}"))
    return rows


def _row(record: Mapping[str, str], where: str) -> ErrorCodeRow:
    try:
        level = ErrorLevel(record["level"])
    except ValueError:
        raise ErrorTableError(
            f"{where}: level {record['level']!r} is not one of "
            f"{', '.join(level.value for level in ErrorLevel)}"
        ) from None
    if not record["symbol"] or not record["code"]:
        raise ErrorTableError(f"{where}: symbol and code are required")
    verified = record["verified"].strip().lower()
    if verified not in ("verified", "unverified"):
        raise ErrorTableError(f"{where}: verified is {verified!r}, expected verified/unverified")
    return ErrorCodeRow(
        symbol=record["symbol"].strip(),
        code=record["code"].strip(),
        level=level,
        reason=record["reason"].strip(),
        store_codes=tuple(c.strip() for c in record["store_codes"].split(";") if c.strip()),
        verified=verified == "verified",
        note=record["note"].strip(),
    )


class RequestFailed(ServiceError):
    """The whole message fails (Result FAILED) for a reason the rules decide: nothing of it is
    stored, and the failure reply is logged so that a retry gets the same answer."""

    def __init__(self, *errors: Error) -> None:
        super().__init__("; ".join(e.details or e.reason or e.code for e in errors))
        self.errors = errors


__all__ = [
    "DEFAULT_TABLE",
    "ErrorCodeRow",
    "ErrorCodeTable",
    "ErrorTableError",
    "Problem",
    "RequestFailed",
    "ServiceError",
]

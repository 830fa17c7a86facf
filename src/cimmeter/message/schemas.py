"""The XSD files of every registered noun and of the envelope, generated from the models.

    python -m cimmeter.message.schemas --write   # regenerate src/cimmeter/xml/xsd/*.xsd
    python -m cimmeter.message.schemas --check   # exit 1 when a committed file differs

Files: `Message.xsd` (the envelope), `<Profile>.xsd` per payload and query profile,
`<Noun>Message.xsd` (typed requests, events, response, fault) and, for nouns read with `get`,
`Get<Noun>Message.xsd`. A test asserts the committed files equal this output.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cimmeter.message.envelope import ENVELOPE_CLASSES, ID, Option
from cimmeter.message.registry import REGISTRY, Registry
from cimmeter.message.verbs import TYPED_EVENT_OPERATIONS, TYPED_REQUEST_OPERATIONS, VERBS
from cimmeter.xml.validation import XSD_DIR
from cimmeter.xml.xsdgen import get_wrapper_schema, message_schema, profile_schema, wrapper_schema


def generate(registry: Registry = REGISTRY) -> dict[str, str]:
    """File name -> XSD text for the envelope and every noun of `registry`."""
    files = {"Message.xsd": message_schema(ENVELOPE_CLASSES)}
    requests = [VERBS[v].operation for v in TYPED_REQUEST_OPERATIONS]
    events = [VERBS[v].operation for v in TYPED_EVENT_OPERATIONS]
    for entry in registry:
        files[f"{entry.profile}.xsd"] = profile_schema(entry.payload)
        if entry.query is not None:
            files[f"{entry.query.profile}.xsd"] = profile_schema(entry.query)
        files[f"{entry.noun}Message.xsd"] = wrapper_schema(
            entry.noun,
            entry.profile,
            request_operations=requests,
            event_operations=events,
            profile_location=f"{entry.profile}.xsd",
        )
        if entry.gettable:
            files[f"Get{entry.noun}Message.xsd"] = get_wrapper_schema(
                entry.noun,
                entry.profile,
                id_class=ID,
                option_type=f"msg:{Option.type_name()}",
                query=entry.query,
                profile_location=f"{entry.profile}.xsd",
                query_location=f"{entry.query.profile}.xsd" if entry.query else None,
            )
    return files


def differences(directory: Path = XSD_DIR) -> list[str]:
    """Names of the files that are missing, stale or left over in `directory`."""
    expected = generate()
    present = {p.name for p in directory.glob("*.xsd")}
    stale = [
        name
        for name, text in expected.items()
        if not (directory / name).is_file() or (directory / name).read_text("utf-8") != text
    ]
    return sorted(stale + [name for name in present if name not in expected])


def write(directory: Path = XSD_DIR) -> list[str]:
    """Write every schema file (and remove generated files no longer produced)."""
    expected = generate()
    directory.mkdir(parents=True, exist_ok=True)
    for name in {p.name for p in directory.glob("*.xsd")} - set(expected):
        (directory / name).unlink()
    for name, text in expected.items():
        (directory / name).write_text(text, "utf-8")
    return sorted(expected)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--write"]:
        for name in write():
            print(f"wrote {XSD_DIR / name}")
        return 0
    if args == ["--check"]:
        stale = differences()
        for name in stale:
            print(f"{XSD_DIR / name}: differs from the models (run --write)", file=sys.stderr)
        return 1 if stale else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

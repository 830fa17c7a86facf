"""Parse benchmark (issue 4): `./scripts/bench parse [--quick] [--runs N] [--no-10m]`.

A MeterReadings document of 10,000 meters x 96 15-minute readings (~1M readings, ~110 MB,
cached under bench/out/) is read each way in its own process, in the same run: our streaming
parse+validate to columnar blocks, our parse without validation, the streaming floor
(`iterparse` on MeterReading + `clear()`), a bare `lxml.etree.parse`, xsdata data binding
(classes generated at bench time into bench/out from the MeterReadings XSD) and xmlschema
`to_dict`. xsdata and xmlschema run on a 1,000-meter subset (~11 MB) because they are two
orders of magnitude slower; rates are per reading so they compare. Then the peak RSS of our
reader at 100k, 1M and 10M readings. `--quick`: 1,000 meters, no 10M point.

The XSD is the vendor copy in the shared folder until our own is in the package
(`CIMMETER_MR_XSD` overrides); it is read at run time, never copied.
"""

from __future__ import annotations

import importlib
import os
import resource
import subprocess
import sys
from pathlib import Path

from lxml import etree

from bench._common import Measure, in_process, table
from bench._generate import OUT, cached_document
from cimmeter.xml.stream import read_meter_readings

# imports happen when a measuring process loads this module, before its clock starts

PROFILE = "{http://iec.ch/TC57/2011/MeterReadings#}"


def _xsd() -> Path:
    env = os.environ.get("CIMMETER_MR_XSD")
    if env:
        return Path(env)
    packaged = Path(__file__).resolve().parent.parent / "src/cimmeter/xml/xsd/MeterReadings.xsd"
    if packaged.exists():
        return packaged
    shared = Path(os.environ.get("CIMMETER_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    return shared / "reference/vendor-xsd/smencim/MeterReadings/MeterReadings.xsd"


# -- the ways, each run in a fresh process ---------------------------------------------------


def ours(path: str, validate: bool, schema: str) -> int:
    reader = read_meter_readings(path, validate=validate, schema=schema)
    count = 0
    for block in reader:
        count += len(block)
    return count


def floor(path: str) -> int:
    count = 0
    for _, el in etree.iterparse(path, tag=PROFILE + "MeterReading"):
        count += 1
        el.clear()
        while el.getprevious() is not None:
            del el.getparent()[0]
    return count * 96


def bare(path: str) -> int:
    etree.parse(path)
    return _readings(path)


def _readings(path: str) -> int:
    name = Path(path).name  # meter-readings-<meters>x<readings>-...
    meters, readings = name.split("-")[2].split("x")
    return int(meters) * int(readings)


def xsdata_bind(path: str) -> int:
    sys.path.insert(0, str(OUT))
    from xsdata.formats.dataclass.parsers import XmlParser

    module = importlib.import_module("xsdata_mr")
    doc = XmlParser().parse(path, module.MeterReadings)
    return sum(len(b.interval_readings) for m in doc.meter_reading for b in m.interval_blocks)


def xmlschema_decode(path: str, schema: str) -> int:
    import xmlschema

    data = xmlschema.XMLSchema(schema).to_dict(path)
    assert isinstance(data, dict)
    return _readings(path)


def _generate_xsdata(schema: Path) -> None:
    if (OUT / "xsdata_mr" / "__init__.py").exists():
        return
    subprocess.run(
        [sys.executable, "-m", "xsdata", "generate", str(schema), "--package", "xsdata_mr"],
        cwd=OUT,
        check=True,
        capture_output=True,
    )


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    schema = _xsd()
    meters = 1000 if quick else 10_000
    full = str(cached_document(meters))
    subset = str(cached_document(1000 if not quick else 200))
    print(f"document: {full} ({Path(full).stat().st_size / 1e6:.0f} MB, {meters * 96:,} readings)")
    print(f"schema: {schema}")
    measures: list[Measure] = [
        in_process("ours: streaming parse+validate -> blocks", ours, full, True, str(schema)),
        in_process("ours: streaming parse -> blocks (no validation)", ours, full, False, ""),
        in_process("floor: iterparse MeterReading + clear()", floor, full),
        in_process("floor: bare lxml.etree.parse", bare, full),
    ]
    _generate_xsdata(schema)
    measures.append(in_process("xsdata data binding (subset)", xsdata_bind, subset))
    measures.append(in_process("xmlschema to_dict (subset)", xmlschema_decode, subset, str(schema)))
    print(table(measures, unit="readings"))
    ours_v, ours_n, stream_floor, bare_parse, xsdata, xmlschema = measures
    print("\nratios (target in brackets):")
    print(f"  ours validated / streaming floor  {ours_v.rate / stream_floor.rate:6.2f}")
    print(f"  ours validated / bare parse       {ours_v.rate / bare_parse.rate:6.2f}  [>= 0.59]")
    print(f"  ours validated / xsdata           {ours_v.rate / xsdata.rate:6.1f}  [>= 20]")
    print(f"  ours validated / xmlschema        {ours_v.rate / xmlschema.rate:6.1f}  [>= 30]")
    print(f"  ours validated readings/s         {ours_v.rate:9,.0f}  [>= 600,000]")
    print(f"  ours unvalidated / streaming floor {ours_n.rate / stream_floor.rate:5.2f}")
    print("\npeak RSS of the streaming reader (validated; the validator process adds its own):")
    sizes = [1000] if quick else [1000, 10_000, 100_000]
    if "--no-10m" in argv and not quick:
        sizes = sizes[:2]
    for n in sizes:
        path = str(cached_document(n))
        m = in_process(f"ours at {n * 96:,} readings", ours, path, True, str(schema))
        print(f"  {n * 96:>12,} readings  {m.peak_rss_mb:6.0f} MB  {m.rate:10,.0f} readings/s")
    print(f"  (this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    return 0

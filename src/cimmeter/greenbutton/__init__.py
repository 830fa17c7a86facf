"""Green Button (NAESB ESPI) export and import (issue 11).

`write_feed` / `iter_feed` stream an ESPI Atom feed of usage points (readings, ReadingTypes,
LocalTimeParameters, UsageSummaries from the billing determinants); `import_feed` reads any
valid ESPI feed into the store; `validate_feed` checks a document against the ESPI schema
offline. See docs/greenbutton.md.
"""

from cimmeter.greenbutton.export import (
    ExportOptions,
    ExportStats,
    feed_bytes,
    iter_feed,
    write_feed,
)
from cimmeter.greenbutton.validate import FeedInvalid, validate_feed, validation_errors

__all__ = [
    "ExportOptions",
    "ExportStats",
    "FeedInvalid",
    "feed_bytes",
    "iter_feed",
    "validate_feed",
    "validation_errors",
    "write_feed",
]

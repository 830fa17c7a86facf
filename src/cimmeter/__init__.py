"""cimmeter: IEC 61968-9 Ed.2 meter reading and control in Python.

The public surface is small; see the subpackages for the rest:

- `cimmeter.codes`: ReadingType, EndDeviceEventType/ControlType, ReadingQualityType;
- `cimmeter.model`: typed payload models and the columnar `ReadingBlock`;
- `cimmeter.store`: the `Store` interface and its SQLite and PostgreSQL engines.
"""

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock

__all__ = ["ObjectRef", "ReadingBlock", "__version__"]

__version__ = "0.1.0"

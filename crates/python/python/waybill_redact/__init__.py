"""Privacy express waybills: masking, sealed QR tokens and thermal-ready labels.

A thin layer over the waybill-redact Rust library. Records are dicts (or JSON
text) in the project's input format, or ``Record`` objects from ``read_batch``.

>>> import waybill_redact as wr
>>> record = {"tracking_number": "SF1234567890123", "zone": 755021,
...           "recipient": {"name": "张三", "phone": "13812345678",
...                         "address": "广东省深圳市南山区深南大道10000号"}}
>>> wr.mask(record)["recipient"]["phone"]
'******5678'
"""

from . import _native
from ._native import *  # noqa: F403 - the module's public names, listed in its __all__
from ._native import WaybillError

#: What ``render_batch`` yields in place of a label for a record that failed:
#: an instance of one of ``WaybillError``'s subclasses, not raised.
RecordError = WaybillError

__all__ = [*_native.__all__, "RecordError"]

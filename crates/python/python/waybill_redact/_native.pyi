"""Type stub of the waybill_redact._native extension module (checked by mypy.stubtest)."""

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, Literal, Optional, Union, final

from PIL.Image import Image

__version__: str

__all__ = [
    "__version__",
    "BatchReader",
    "BatchRenderer",
    "DangerousMaskPolicy",
    "Directory",
    "Fonts",
    "InputError",
    "KeyFileError",
    "Label",
    "MaskError",
    "MaskPolicy",
    "PartyPolicy",
    "Record",
    "RenderError",
    "Ring",
    "Sealer",
    "SealerKey",
    "TokenError",
    "WaybillError",
    "mask",
    "mask_json",
    "read_batch",
    "render",
    "render_batch",
    "render_label",
    "token_header",
    "write_pdf",
]

_RecordInput = Union[Mapping[str, Any], str, bytes, "Record"]
_PathLike = Union[str, "os.PathLike[str]"]

class WaybillError(Exception):
    position: Optional[int]
    field: Optional[str]

class InputError(WaybillError): ...
class MaskError(WaybillError): ...
class TokenError(WaybillError): ...
class RenderError(WaybillError): ...
class KeyFileError(WaybillError): ...

@final
class Record:
    def __new__(cls, record: Union[Mapping[str, Any], str, bytes, Record]) -> Record: ...
    @property
    def position(self) -> Optional[int]: ...
    @property
    def tracking_number(self) -> str: ...
    @property
    def zone(self) -> int: ...

@final
class BatchReader:
    def __iter__(self) -> BatchReader: ...
    def __next__(self) -> Union[Record, InputError]: ...

def read_batch(
    path_or_file: Union[_PathLike, IO[bytes], IO[str]],
    *,
    format: Literal["auto", "json", "jsonl", "csv"] = "auto",
    max_record_bytes: int = 65536,
) -> BatchReader: ...

@final
class PartyPolicy:
    def __new__(
        cls,
        *,
        name: Literal["surname", "hidden"] = "surname",
        phone: Literal["last_digits", "hidden"] = "last_digits",
        address: Literal["street", "district", "city"] = "street",
    ) -> PartyPolicy: ...
    @property
    def name(self) -> Literal["surname", "hidden"]: ...
    @property
    def phone(self) -> Literal["last_digits", "hidden"]: ...
    @property
    def address(self) -> Literal["street", "district", "city"]: ...

@final
class MaskPolicy:
    def __new__(
        cls,
        *,
        recipient: Optional[PartyPolicy] = None,
        sender: Optional[PartyPolicy] = None,
        items: Literal["count", "hidden"] = "count",
        mask_char: str = "*",
    ) -> MaskPolicy: ...
    @property
    def recipient(self) -> PartyPolicy: ...
    @property
    def sender(self) -> PartyPolicy: ...
    @property
    def is_dangerous(self) -> bool: ...
    def dangerous(self) -> DangerousMaskPolicy: ...

_Role = Literal["recipient", "sender"]

@final
class DangerousMaskPolicy:
    def show_full_name(self, role: _Role) -> DangerousMaskPolicy: ...
    def show_phone_digits(self, role: _Role, digits: int) -> DangerousMaskPolicy: ...
    def show_full_address(self, role: _Role) -> DangerousMaskPolicy: ...
    def show_item_details(self) -> DangerousMaskPolicy: ...

def mask(record: _RecordInput, policy: Optional[MaskPolicy] = None) -> dict[str, Any]: ...
def mask_json(record: _RecordInput, policy: Optional[MaskPolicy] = None) -> str: ...

@final
class Ring:
    @staticmethod
    def load(path: _PathLike) -> Ring: ...
    @staticmethod
    def generate() -> Ring: ...
    def save(self, path: _PathLike) -> None: ...
    def seal(self, record: _RecordInput, ttl_days: int = 30) -> str: ...
    @property
    def current_kid(self) -> int: ...

@final
class Directory:
    @staticmethod
    def load(path: _PathLike, *, carrier: str) -> Directory: ...
    @property
    def kid(self) -> int: ...
    @property
    def zones(self) -> list[int]: ...
    @property
    def expires_at(self) -> int: ...

@final
class SealerKey:
    @staticmethod
    def generate() -> SealerKey: ...
    @staticmethod
    def load(path: _PathLike) -> SealerKey: ...
    def save(self, path: _PathLike) -> None: ...
    @property
    def public_key(self) -> str: ...

@final
class Sealer:
    def __new__(cls, directory: Directory, key: SealerKey) -> Sealer: ...
    def seal(self, record: _RecordInput, ttl_days: int = 30) -> str: ...
    @property
    def sealer_id(self) -> str: ...

def token_header(token: str) -> dict[str, Any]: ...

@final
class Fonts:
    def __new__(cls, path: _PathLike, index: int = 0) -> Fonts: ...
    @staticmethod
    def bundled() -> Fonts: ...
    def with_fallback(self, path: _PathLike, index: int = 0) -> Fonts: ...

@final
class Label:
    def png(self, gray: bool = False) -> bytes: ...
    def zpl(self, native_codes: bool = False) -> bytes: ...
    def pdf(self) -> bytes: ...
    def to_pil(self) -> Image: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def dpi(self) -> int: ...
    @property
    def warnings(self) -> list[str]: ...

_Format = Literal["png", "png-gray", "zpl", "pdf"]

def render(
    record: _RecordInput,
    token: str,
    size: str = "100x150",
    dpi: int = 203,
    format: _Format = "png",
    fonts: Optional[Fonts] = None,
    policy: Optional[MaskPolicy] = None,
) -> bytes: ...
def render_label(
    record: _RecordInput,
    token: str,
    size: str = "100x150",
    dpi: int = 203,
    fonts: Optional[Fonts] = None,
    policy: Optional[MaskPolicy] = None,
) -> Label: ...
def write_pdf(path: _PathLike, labels: Iterable[Label]) -> int: ...

@final
class BatchRenderer:
    def __iter__(self) -> BatchRenderer: ...
    def __next__(self) -> tuple[int, Union[bytes, Label, WaybillError]]: ...

def render_batch(
    records: Iterable[Union[_RecordInput, InputError]],
    sealer: Union[Ring, Sealer],
    *,
    size: str = "100x150",
    dpi: int = 203,
    format: Union[_Format, Literal["label"]] = "png",
    fonts: Optional[Fonts] = None,
    policy: Optional[MaskPolicy] = None,
    ttl_days: int = 30,
    jobs: Optional[int] = None,
) -> BatchRenderer: ...

"""Where mapping files and the schemas they are checked against live, and loading them all."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

import orjson

from adapters import onestop
from adapters.mapping.loader import LocalFormat, MappingLoader
from adapters.mapping.vendor_format import VendorFormat
from lgsp.errors import ConfigError

MAPPINGS_DIR: Final = Path(__file__).resolve().parent.parent / "mappings"
SCHEMAS_DIR: Final = Path(__file__).resolve().parent.parent.parent / "schemas"


@cache
def _loader() -> MappingLoader:
    codecs = {codec.format: codec for codec in onestop.CODECS}
    local_formats = {
        spec.name: LocalFormat(spec, codecs[spec.name], orjson.loads((SCHEMAS_DIR / spec.schema).read_bytes()))
        for spec in onestop.FORMATS
        if spec.schema is not None
    }
    return MappingLoader(SCHEMAS_DIR / "mapping.schema.json", local_formats)


def load_file(file: Path) -> VendorFormat:
    loader = _loader()
    mapping = loader.load(file)
    return VendorFormat(mapping, loader.local_formats[mapping.local_format])


def load_folder(folder: Path = MAPPINGS_DIR) -> list[VendorFormat]:
    formats: dict[str, VendorFormat] = {}
    for file in sorted(folder.glob("*.yaml")):
        loaded = load_file(file)
        earlier = formats.setdefault(loaded.spec.name, loaded)
        if earlier is not loaded:
            raise ConfigError(f"{file}: format {loaded.spec.name} is already described by {earlier.file}")
    return list(formats.values())

"""Vendor variants described without Python: declarative mapping files in ``adapters/mappings/``.

Importing this package turns every ``adapters/mappings/*.yaml`` into a format (``FORMATS``) and its
codec (``CODECS``); a wrong file stops the bus with ``file:line:column: message``. The file format
is ``schemas/mapping.schema.json``; ``adapters/mappings/igate-dossier.yaml`` is a commented example.
"""

from adapters.mapping.catalog import load_folder
from lgsp.formats import FormatSpec
from lgsp.translation import Codec

_VENDOR_FORMATS = load_folder()

FORMATS: list[FormatSpec] = [vendor.spec for vendor in _VENDOR_FORMATS]
CODECS: list[Codec] = [vendor.codec for vendor in _VENDOR_FORMATS]

__all__ = ["CODECS", "FORMATS"]

"""Vendor variants described without Python: declarative mapping files in ``adapters/mappings/``."""

from lgsp.formats import FormatSpec
from lgsp.translation import Codec

FORMATS: list[FormatSpec] = []
CODECS: list[Codec] = []

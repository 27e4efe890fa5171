"""The province's integration content in code: one module per format family, registered here."""

from adapters import docflow, dvcqg, edxml, mapping, onestop
from lgsp.formats import FormatSpec
from lgsp.translation import Codec

FORMATS: list[FormatSpec] = [*edxml.FORMATS, *dvcqg.FORMATS, *onestop.FORMATS, *docflow.FORMATS, *mapping.FORMATS]
CODECS: list[Codec] = [*edxml.CODECS, *dvcqg.CODECS, *onestop.CODECS, *docflow.CODECS, *mapping.CODECS]

__all__ = ["CODECS", "FORMATS"]

"""The province's integration content in code: one module per format family, registered here."""

from adapters import docflow, dvcqg, edxml, onestop
from lgsp.formats import FormatSpec

FORMATS: list[FormatSpec] = [*edxml.FORMATS, *dvcqg.FORMATS, *onestop.FORMATS, *docflow.FORMATS]

__all__ = ["FORMATS"]

"""The bus over HTTP."""

from lgsp.web.app import create_app
from lgsp.web.context import Bus

__all__ = ["Bus", "create_app"]

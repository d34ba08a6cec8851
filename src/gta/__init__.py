"""gta: a toolkit for the Cisco Global Threat Alerts API.

The public SDK surface is re-exported here; implementation modules are private
(underscore-prefixed) and may change without notice.
"""

from gta import errors
from gta._version import __version__
from gta.client import Client

__all__ = ["Client", "__version__", "errors"]

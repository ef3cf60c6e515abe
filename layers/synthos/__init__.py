"""Synthos: measures model-collapse risk in (synthetic) datasets against real reference data.

The library is the one home of all domain code. It imports no AWS SDK and reads no environment;
adapters and entry points (CLI, Lambda handlers, the Batch container) do that at the edge.
"""

__version__ = "0.1.0"

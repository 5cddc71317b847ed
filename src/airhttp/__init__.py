"""airhttp: a pure-Python asyncio HTTP client with aiohttp's client API.

This module only gathers the public names; it holds no logic of its own.
"""

__version__ = "0.1.0.dev0"

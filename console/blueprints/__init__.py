"""The console's areas, one blueprint each; every module exposes ``blueprint()``."""

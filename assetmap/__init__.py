"""assetmap: community asset mapping against deprivation, by ward and neighbourhood."""

__version__ = "0.1.0"

"""The version of lifecircle (one place: the package, the API and the outputs report it)."""

__all__ = ["__version__"]

__version__ = "0.1.0"

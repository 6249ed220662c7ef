"""kb: a searchable knowledge base over an advice site's articles and reader comments."""

__version__ = "0.1.0"

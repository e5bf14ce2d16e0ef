"""The command line: ``main(argv) -> int`` parses, calls the library and prints; nothing is computed here."""

from .main import build_parser, main

__all__ = ["build_parser", "main"]

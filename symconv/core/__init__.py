"""The core: a layer's spec, the per-axis tap map, the symbols ω, b, x and the size budgets.

Pure functions and frozen data only; nothing here imports Jinja2, argparse or does file I/O.
"""

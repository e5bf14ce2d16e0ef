"""Checking someone else's convolution code: run it, read its bilinear form, diagnose what differs.

Stages, each importing only those listed before it: ``form`` and ``finding`` (the data every stage speaks),
``caller`` (calling fn), ``symbolic`` (fn on SymPy symbols), ``probe`` (numeric probes: bi-affinity and
confirmation), ``readers`` (coefficients read back from outputs), ``hypotheses`` and ``diagnosis`` (naming the
bug), ``verdict`` (the result), and ``implementation``, the front door (:func:`verify_implementation`).
"""

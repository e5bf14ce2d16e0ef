"""The lecture note's claims, each checked as written, with counterexamples and checked corrections.

(The folder is ``claims`` rather than ``audit`` so that it never shadows the public function ``symconv.audit``.)
"""

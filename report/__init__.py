"""Render the daily report from plain data: Markdown (Jinja2), HTML (cmark-gfm + nh3), email.

This package is the bottom of the dependency chain: it imports neither ``webhook`` nor
``workers``, and it owns the one definition of what an analysis is (``report.schema``).
"""

"""Rendering: web maps, print maps, styles."""

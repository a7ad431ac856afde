"""Textual screens, one per console view."""

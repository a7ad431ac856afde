"""Data sources: file tailing, discovery, host sampling and job manifests (no Textual)."""

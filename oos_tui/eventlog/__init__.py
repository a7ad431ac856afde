"""The event stream over every log: byte-offset indexes, merge by time, search (no Textual)."""

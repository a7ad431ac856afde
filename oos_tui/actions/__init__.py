"""Operator actions (CONTRACT §5): each one transaction with its audit row."""

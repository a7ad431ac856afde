"""The SQLite store: schema, connections, and the live read-only reader."""

"""The reference OOS producer behind ``oos-tui demo``."""

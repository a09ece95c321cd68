"""Evidence Locker: keep, hash, date and export the evidence of a shopping dispute."""

__version__ = "0.1.0"

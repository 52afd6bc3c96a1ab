"""smsctl: a pool of SMS send-from numbers, kept in a local SQLite file."""

__version__ = "0.1.0"

"""smsctl's own exceptions; the CLI turns each into a message and an exit code."""


class SmsctlError(Exception):
    """A refusal a person can act on. ``exit_code`` follows DESIGN's table."""

    exit_code = 1


class RuleError(SmsctlError):
    """Refused by a rule of the pool (exit 1)."""

    exit_code = 1


class UsageError(SmsctlError):
    """Bad input, an unreadable file or a missing database (exit 2)."""

    exit_code = 2


class NoDatabaseError(UsageError):
    pass


class InvalidPhoneError(UsageError):
    pass


class OptedOutError(SmsctlError):
    """The recipient opted out of texts from the pool (exit 3)."""

    exit_code = 3


class NoSenderError(SmsctlError):
    """No number in the pool can send (exit 4)."""

    exit_code = 4


class ImportLockedError(SmsctlError):
    """Another import holds the lock (exit 1)."""

    exit_code = 1

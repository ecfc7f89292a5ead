"""``SmtpHook``."""

"""``SmtpNotifier``."""

"""Mail through an SMTP server (the standard library's smtplib): ``SmtpHook``, ``EmailOperator``, ``SmtpNotifier``."""

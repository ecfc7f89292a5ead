"""``WebhookNotifier``."""

"""Alerts posted as JSON to an incoming webhook (Slack, Teams, chat tools, any HTTP endpoint), on httpx."""

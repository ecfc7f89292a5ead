"""Who is asking: logins, sessions, API tokens, the signing key and login rate limits."""

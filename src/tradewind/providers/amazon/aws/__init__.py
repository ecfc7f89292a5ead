"""AWS services of the Amazon provider."""

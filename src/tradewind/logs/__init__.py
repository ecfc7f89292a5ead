"""Task logs: where a try's log is kept (the local folder, a remote store) and how it is read back."""

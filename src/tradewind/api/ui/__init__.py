"""The web UI: what its pages show, computed from the store, and how they are rendered."""

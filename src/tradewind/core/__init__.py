"""Pure domain: states, transitions, keys, SerializedDag, workload, events, clock."""

"""Examples shipped with Tradewind, one feature each; loaded when core.load_examples is on."""

"""Who may use hearth at runtime: the roster, DM pairing, the gate, and their chat commands."""

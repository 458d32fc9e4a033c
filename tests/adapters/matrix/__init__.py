"""Matrix adapter tests (translate units and end-to-end against a real Synapse)."""

"""LLM clients behind one streaming protocol."""

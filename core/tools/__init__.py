"""Tools the agent works with, their risk, and the port the agent calls them through."""

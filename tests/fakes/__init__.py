"""Hand-written recording fakes and loopback fake servers for offline tests."""

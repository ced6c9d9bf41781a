"""Fault harness: a loopback TCP proxy that cuts, stalls, slows and resets connections, a
misbehaving publisher, and a rig of real broker, hub and station processes to run them on."""

"""Scales: pure codecs per protocol, a stability filter, transports, and the device."""

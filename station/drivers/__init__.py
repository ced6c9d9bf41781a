"""Device drivers: pure codecs, transports, supervisors, and a simulated twin of each."""

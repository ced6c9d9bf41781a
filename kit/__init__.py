"""The kit: what tests/ and scripts/ (the demo, the benchmarks, the soak) both need to run
the real parts on this machine: free loopback ports, waiting for them, a web proxy. Not
part of the station or hub releases."""

"""Simulated twins of the station's devices, for the demo and the tests.

Each speaks the real protocol at the operating-system boundary: serial devices on a
pseudo-terminal (the station opens a stable symlink to the slave, as it would open
/dev/serial/by-id/...), keyboard-wedge scanners as packed input events on a pipe.
Each has the small API the demo drives: `scan(...)`, `place(...)`, `remove()`,
`unplug()`, `replug()`.
"""

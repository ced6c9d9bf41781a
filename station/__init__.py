"""The scan station: one core that owns all state, fed by one queue of inputs."""

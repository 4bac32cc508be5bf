"""The simulated world: state and clock (`state.World`), and one module per concern of what it does."""

from simulator.world.errors import SimError
from simulator.world.state import World

__all__ = ["SimError", "World"]

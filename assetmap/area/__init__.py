"""The area folder and its tasks: manifest, loading, creating, the register, sources and coverage."""

"""Developer scripts (not shipped): generating the docs' settings and command-help sections."""

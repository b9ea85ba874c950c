"""What a project's test suite runs against its migrations (the stairway)."""

"""The catalog example's Django project."""

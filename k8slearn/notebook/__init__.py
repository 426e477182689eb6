"""What notebooks show: plots, widgets and the exercises' self-checks."""

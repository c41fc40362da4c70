"""leaddesk: a keyboard-driven lead desk for the terminal."""

__version__ = "0.1.0"

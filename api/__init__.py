"""lifecircle HTTP service."""

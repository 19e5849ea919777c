"""Maker-checker (four eyes) for changes that could hand an account to someone else."""

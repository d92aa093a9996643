"""Socialcoin: a euro-backed social currency that a Dutch municipality runs on a permissioned chain."""

__version__ = "0.1.0"

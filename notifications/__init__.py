"""Outbound messages to customers (one-time codes and notices), shared by accounts, kiosk and portal.

The lowest layer beside audit: it imports no other app, so any app may send through it.
"""

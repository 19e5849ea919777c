"""Kiosk writes: device credentials, the session state machine, OTP fallback and ATM operations."""

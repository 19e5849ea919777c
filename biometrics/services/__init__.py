"""Biometrics writes (enrolment, templates, gallery sync) and the kiosk's frame verification."""

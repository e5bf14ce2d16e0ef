"""Checking someone else's convolution code: run it, read its bilinear form, diagnose what differs."""

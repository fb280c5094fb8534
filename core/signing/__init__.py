"""Signed, expiring links and tokens (itsdangerous) bound to one recipient and one purpose."""

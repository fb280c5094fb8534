"""The public web pages' data: platform-free queries that return plain dataclasses."""

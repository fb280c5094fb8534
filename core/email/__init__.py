"""The daily brief by email: signup with double opt-in, subscriptions, throttling, bounces."""

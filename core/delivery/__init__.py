"""Daily delivery: when each recipient is due, claiming work, sending through rate limits."""

"""HTTP side of the payments feature (found by ``config.scan()``)."""

"""The programme's rules: what residents, organisations, merchants and the municipality may do."""

"""Everything that speaks to the chain: contract constants, typed-data messages, deployments."""

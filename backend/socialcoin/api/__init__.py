"""The REST API: one router per actor, problem+json errors, bearer tokens."""

"""The `socialcoin` command line for municipal staff (see docs/cli.md); it talks only to the backend's
HTTP API."""

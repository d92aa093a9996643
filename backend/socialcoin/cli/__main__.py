"""`python -m socialcoin.cli` is the `socialcoin` command."""

from .main import main

main()

"""The public ledger for researchers: the chain's logs as DataFrames (ledger.py), the figures of
community-currency research computed on them (metrics.py, network.py), and their exports (exports.py).

Everything here reads only what is public: our contracts' logs (straight from a JSON-RPC endpoint, or the
backend's index of them). Addresses are pseudonymous; nothing personal is on chain. The shape of every
frame, with the meaning of each column, is in schema.py: the one data dictionary the exports print.
"""

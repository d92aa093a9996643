"""The network view of "Circulation of a digital community currency" (Mattsson, Criscione & Takes,
Scientific Reports 2023) on our ledger: the flow network of STANDARD transfers (directed, weighted by cents),
the share of its volume inside communities, PageRank, degree assortativity and the number of cycles of
length 2 to 5.

The network is aggregated first (one edge per payer and payee, however many transfers), so its size is that of
who-paid-whom, not of the ledger. PageRank and assortativity are vectorised over the edge arrays; short cycles
are counted exactly from traces of sparse adjacency powers (no enumeration); communities come from networkx's
Louvain method with a fixed seed on a graph built in a fixed order, so the same ledger gives the same answer.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from socialcoin.research.frames import Prepared, prepare

DAMPING = 0.85
# Louvain stops adding levels once a level gains less modularity than this (networkx's default is 1e-7: on a
# million transfers the extra levels cost seconds and moved no node in our synthetic ledger).
LEVEL_GAIN = 1.0e-4


def _edges(p: Prepared) -> pd.DataFrame:
    """One row per (payer, payee) of STANDARD transfers: address indices, cents and number of transfers."""
    s = p.standard & (p.source != 0) & (p.target != 0)
    frame = pd.DataFrame({"u": p.source[s], "v": p.target[s], "value": p.value[s]})
    return (
        frame.groupby(["u", "v"], sort=True)
        .agg(value=("value", "sum"), transfers=("value", "size"))
        .reset_index()
    )


def pagerank(u: np.ndarray, v: np.ndarray, weight: np.ndarray, n: int, tol: float = 1.0e-10) -> np.ndarray:
    """PageRank of nodes 0..n-1 on the weighted directed edges u -> v (networkx's definition: damping 0.85,
    uniform teleport, a node without outgoing weight spreads its rank uniformly)."""
    if n == 0:
        return np.zeros(0)
    out = np.bincount(u, weights=weight, minlength=n)
    share = np.divide(weight, out[u], out=np.zeros(len(weight)), where=out[u] > 0)  # a node paying only 0s
    dangling = out == 0
    rank = np.full(n, 1.0 / n)
    for _ in range(1000):
        spread = np.bincount(v, weights=rank[u] * share, minlength=n)
        new = DAMPING * (spread + rank[dangling].sum() / n) + (1 - DAMPING) / n
        if np.abs(new - rank).sum() < n * tol:
            return new
        rank = new
    return rank


def degree_assortativity(u: np.ndarray, v: np.ndarray, n: int) -> float:
    """Pearson correlation, over the distinct edges u -> v, of the payer's out-degree and the payee's
    in-degree (networkx's degree_assortativity_coefficient with x="out", y="in"); NaN when undefined."""
    if len(u) < 2:
        return float("nan")
    out_degree = np.bincount(u, minlength=n).astype(np.float64)
    in_degree = np.bincount(v, minlength=n).astype(np.float64)
    x, y = out_degree[u], in_degree[v]
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def cycle_counts(u: np.ndarray, v: np.ndarray, n: int) -> dict[int, int]:
    """Number of simple directed cycles of each length 2..5 in the graph of edges u -> v (self-loops ignored).

    Closed walks of length k number tr(A^k); the ones that repeat a vertex are subtracted exactly. With
    S = A * A^T (reciprocated pairs), d = S's row sums, B = A^2 and t = diag(A^3):
        c2 = tr(A^2) / 2,   c3 = tr(A^3) / 3,
        c4 = (tr(A^4) - 2 c2 - 2 sum d(d-1)) / 4     (a 2-cycle walked twice; two 2-cycles at a node)
        c5 = (tr(A^5) - 5 (sum d t - sum(S * B^T))) / 5     (a 2-cycle and a 3-cycle at a node, once each)
    tr(A^5) is summed over row blocks of A^3 = B A, so memory stays bounded.
    """
    keep = u != v
    a = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.int64), (u[keep], v[keep])), shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1
    at = a.T.tocsr()
    b = (a @ a).tocsr()
    s = a.multiply(at).tocsr()
    d = np.asarray(s.sum(axis=1)).ravel()
    bt = b.T.tocsr()
    c2 = int(s.sum()) // 2
    closed3 = np.asarray(b.multiply(at).sum(axis=1)).ravel()  # diag(A^3)
    c3 = int(closed3.sum()) // 3
    tr4 = int(b.multiply(bt).sum())
    c4 = (tr4 - 2 * c2 - 2 * int((d * (d - 1)).sum())) // 4
    tr5 = 0
    # Rows of A^3 per block: about 4 million stored entries at the graph's mean row sizes.
    block = max(1, int(4.0e6 * n * n / max(1, b.nnz * a.nnz)))
    for start in range(0, n, block):
        rows = slice(start, min(n, start + block))
        tr5 += int((b[rows] @ a).multiply(bt[rows]).sum())
    both = int(s.multiply(bt).sum())
    c5 = (tr5 - 5 * (int((d * closed3).sum()) - both)) // 5
    return {2: c2, 3: c3, 4: c4, 5: c5}


def communities(u: np.ndarray, v: np.ndarray, weight: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Per node, its community (0 the largest by members, ties by lowest node): networkx's Louvain on the
    undirected graph whose edge weight is the cents flowing either way, seeded and built in node order."""
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    pairs = pd.DataFrame({"a": lo, "b": hi, "w": weight}).groupby(["a", "b"], sort=True)["w"].sum()
    graph.add_weighted_edges_from(
        zip(
            pairs.index.get_level_values(0).tolist(),
            pairs.index.get_level_values(1).tolist(),
            pairs.tolist(),
            strict=True,
        )
    )
    found = nx.community.louvain_communities(graph, weight="weight", seed=seed, threshold=LEVEL_GAIN)
    ordered = sorted((sorted(group) for group in found), key=lambda group: (-len(group), group[0]))
    label = np.empty(n, dtype=np.int64)
    for number, group in enumerate(ordered):
        label[group] = number
    return label


def _cycles_by_community(u: np.ndarray, v: np.ndarray, group: np.ndarray) -> pd.DataFrame:
    """Per community and length 2..5: simple directed cycles among its members (its induced subgraph)."""
    rows = []
    inside = group[u] == group[v]
    for number in range(int(group.max()) + 1 if len(group) else 0):
        members = np.flatnonzero(group == number)
        keep = inside & (group[u] == number)
        counts = cycle_counts(
            np.searchsorted(members, u[keep]), np.searchsorted(members, v[keep]), len(members)
        )
        rows += [(number, length, count) for length, count in counts.items()]
    return pd.DataFrame(rows, columns=["community", "length", "cycles"], dtype=np.int64)


def network_figures(p: Prepared, seed: int = 0) -> dict[str, pd.DataFrame]:
    """network_edges, network_nodes, network_summary and network_cycles of the whole ledger."""
    edges = _edges(p)
    nodes = np.unique(np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()]))
    n = len(nodes)
    u = np.searchsorted(nodes, edges["u"].to_numpy())
    v = np.searchsorted(nodes, edges["v"].to_numpy())
    weight = edges["value"].to_numpy(dtype=np.float64)
    rank = pagerank(u, v, weight, n)
    group = communities(u, v, weight, n, seed) if n else np.zeros(0, dtype=np.int64)
    volume = int(edges["value"].sum())
    inside = int(edges["value"].to_numpy()[group[u] == group[v]].sum()) if n else 0
    cycle_table = _cycles_by_community(u, v, group)
    address = pd.array(p.addresses[nodes], dtype="string")
    node_table = pd.DataFrame(
        {
            "address": address,
            "kind": pd.array(p.kind[nodes], dtype="string"),
            "area": pd.array(p.area[nodes], dtype="string"),
            "community": group,
            "pagerank": rank,
            "in_value": np.bincount(v, weights=weight, minlength=n).astype(np.int64),
            "out_value": np.bincount(u, weights=weight, minlength=n).astype(np.int64),
        }
    )
    edge_table = pd.DataFrame(
        {
            "source": pd.array(p.addresses[edges["u"].to_numpy()], dtype="string"),
            "target": pd.array(p.addresses[edges["v"].to_numpy()], dtype="string"),
            "value": edges["value"].to_numpy(dtype=np.int64),
            "transfers": edges["transfers"].to_numpy(dtype=np.int64),
        }
    )
    summary = pd.DataFrame(
        {
            "nodes": [n],
            "edges": [len(edges)],
            "volume": [volume],
            "communities": [int(group.max()) + 1 if n else 0],
            "community_share": [inside / volume if volume else float("nan")],
            "degree_assortativity": [degree_assortativity(u, v, n)],
        }
    )
    return {
        "network_edges": edge_table,
        "network_nodes": node_table,
        "network_summary": summary,
        "network_cycles": cycle_table,
    }


def flow_network(
    transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """The network figures of the ledger given as frames (see network_figures)."""
    return network_figures(prepare(transfers, participants, coins), seed=seed)

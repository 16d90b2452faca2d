"""The throwaway PostgreSQL cluster that ``make test`` starts on a machine without a running server."""

from __future__ import annotations

import psycopg

from tests.pgcluster import ThrowawayCluster, find_bin_dir, free_port, server_answers


def test_throwaway_cluster_starts_serves_and_goes_away() -> None:
    bin_dir = find_bin_dir()
    # These machines have the binaries; a fresh one without them stops the run in conftest instead.
    assert bin_dir is not None, "PostgreSQL binaries not found"
    port = free_port()
    cluster = ThrowawayCluster(bin_dir, port=port)
    folder = cluster.folder
    with cluster:
        assert cluster.port == port != 5432
        with psycopg.connect(cluster.dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE nashra_probe")
            assert conn.execute("SELECT current_setting('port')").fetchone() == (str(port),)
        probe = cluster.dsn.replace("dbname=postgres", "dbname=nashra_probe")
        with psycopg.connect(probe) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (41), (1)")
            assert conn.execute("SELECT sum(x) FROM t").fetchone() == (42,)
    assert not server_answers(cluster.dsn, timeout=1)
    assert not folder.exists()

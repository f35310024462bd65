using System.Net;
using System.Net.Sockets;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Verification;

/// <summary>
/// Several nodes, each with its own configuration root, loopback address (127.0.0.1N) and listening
/// ports, heartbeating into one real PostgreSQL; the cross-node checks must find each drift and nothing else.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MultiNodeTests : IDisposable
{
    // Picked per test, free on every node's address: fixed ports collided when two test runs shared the machine.
    private readonly int _wwwPort = FreePort(), _launcherPort;
    private readonly PostgresFixture _pg;
    private readonly TempDirectory _dir = new();
    private readonly List<TcpListener> _listeners = [];
    private readonly string _connection;
    private readonly string _shared;

    public MultiNodeTests(PostgresFixture pg)
    {
        _pg = pg;
        do _launcherPort = FreePort(); while (_launcherPort == _wwwPort);
        var store = pg.NewStore();
        _connection = pg.Server.ConnectionString(store.Target.Database);
        _shared = Directory.CreateDirectory(Path.Combine(_dir.Path, "shared")).FullName;
    }

    public void Dispose()
    {
        _listeners.ForEach(l => l.Stop());
        _dir.Dispose();
    }

    private string Address(int n) => $"127.0.0.1{n}:{_wwwPort}";

    private sealed record Node(int N, string Root, TestMachine Machine);

    /// <summary>A port the system handed out on the first node's address that the other nodes' addresses can bind too.</summary>
    private static int FreePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            var first = new TcpListener(IPAddress.Parse("127.0.0.11"), 0);
            first.Start();
            var port = ((IPEndPoint)first.LocalEndpoint).Port;
            try
            {
                foreach (var n in new[] { 2, 3, 4 })
                {
                    var other = new TcpListener(IPAddress.Parse($"127.0.0.1{n}"), port);
                    other.Start();
                    other.Stop();
                }
                return port;
            }
            catch (SocketException) when (attempt < 20) { }
            finally { first.Stop(); }
        }
    }

    private Node MakeNode(int n, string key = "cluster-key", string balancer = "sessions", bool ownStorage = false, bool listen = true)
    {
        var root = Directory.CreateDirectory(Path.Combine(_dir.Path, $"node{n}")).FullName;
        File.WriteAllText(Path.Combine(root, "rserver.conf"), $"load-balancing-enabled=1\nserver-shared-storage-path={_shared}\nwww-address=127.0.0.1{n}\nwww-port={_wwwPort}\n");
        File.WriteAllText(Path.Combine(root, "load-balancer"), $"www-host-name={Address(n)}\nbalancer={balancer}\n");
        File.WriteAllText(Path.Combine(root, "launcher.conf"), $"[server]\naddress=0.0.0.0\nport={_launcherPort}\n");
        File.WriteAllText(Path.Combine(root, "database.conf"), "provider=postgresql\nhost=db.cluster\npool-size=4\n");
        File.WriteAllText(Path.Combine(root, "secure-cookie-key"), key + "\n");
        var machine = new TestMachine();
        machine.NfsPaths.Add(_shared);
        if (ownStorage) machine.Mounts[_shared] = Directory.CreateDirectory(Path.Combine(_dir.Path, $"node{n}-local")).FullName;
        if (listen)
            foreach (var port in new[] { _wwwPort, _launcherPort })
            {
                var listener = new TcpListener(IPAddress.Parse($"127.0.0.1{n}"), port);
                listener.Start();
                _listeners.Add(listener);
            }
        return new Node(n, root, machine);
    }

    private NodeRequest Request(Node node, TimeSpan clockSkew = default) => new()
    {
        ConfigRoot = node.Root, ConnectionString = _connection, Machine = node.Machine,
        Report = new NodeReport { Load1 = 0.1, Load5 = 0.2, Load15 = 0.3, Cores = 4, Version = "2025.09.1", Clock = new OffsetClock(clockSkew) },
    };

    private void Heartbeat(Node node, TimeSpan clockSkew = default)
    {
        HeartbeatOperations.RegisterNode(Request(node, clockSkew), new RecordingHost());
        HeartbeatOperations.UpdateNodeStatus(Request(node, clockSkew), new RecordingHost());
    }

    /// <summary>Every node beats twice, as a running cluster's timers would: the second beat sees the markers the others wrote.</summary>
    private void Settle(IEnumerable<Node> nodes, Node? skewed = null, TimeSpan skew = default)
    {
        var all = nodes.ToList();
        for (var round = 0; round < 2; round++)
            foreach (var n in all) Heartbeat(n, n == skewed ? skew : default);
    }

    private IReadOnlyList<CheckResult> Verify(Node from, params string[] checks) =>
        ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = from.Root, ConnectionString = _connection, Machine = from.Machine, Check = checks }, new RecordingHost());

    private static readonly string[] CrossNodeChecks = ["cluster.*", "network.reachable", "database.connections"];

    [Fact]
    public void AHealthyClusterPassesEveryCrossNodeCheck()
    {
        var nodes = Enumerable.Range(1, 3).Select(n => MakeNode(n)).ToList();
        Settle(nodes);
        var results = Verify(nodes[0], CrossNodeChecks);
        Assert.All(results, r => Assert.True(r.Status is CheckStatus.Pass or CheckStatus.Skip, r.ToString()));
        Assert.Equal(CheckStatus.Skip, results.Single(r => r.CheckId == "cluster.session-spread").Status); // no sessions yet
        Assert.Equal(3, results.Count(r => r.CheckId == "network.reachable" && r.Status == CheckStatus.Pass));
    }

    [Fact]
    public void EachDriftOfOneNodeIsFoundAndNothingElseIsFlagged()
    {
        var nodes = Enumerable.Range(1, 3).Select(n => MakeNode(n)).ToList();
        var drifted = MakeNode(4, key: "another-key", balancer: "user-hash", ownStorage: true);
        Settle(nodes.Append(drifted), drifted, TimeSpan.FromSeconds(90));

        var results = Verify(nodes[0], CrossNodeChecks);
        var flagged = results.Where(r => r.Status is CheckStatus.Fail or CheckStatus.Warn)
            .Select(r => (r.CheckId, r.Target)).Order().ToList();
        Assert.Equal(new[]
        {
            ("cluster.clock", Address(4)),
            ("cluster.config-identical", Address(4)),
            ("cluster.key", Address(4)),
            ("cluster.shared-marker", Address(4)),
        }, flagged);

        var config = results.Single(r => r.CheckId == "cluster.config-identical" && r.Status == CheckStatus.Fail);
        Assert.Contains("/etc/rstudio/load-balancer differs", config.Found);
        Assert.Contains("Copy /etc/rstudio/load-balancer", config.Fix);
        Assert.Contains("90", results.Single(r => r.CheckId == "cluster.clock" && r.Status == CheckStatus.Fail).Found);
        Assert.Contains("synchronise", results.Single(r => r.CheckId == "cluster.clock" && r.Status == CheckStatus.Fail).Fix, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure-cookie-key", results.Single(r => r.CheckId == "cluster.key" && r.Status == CheckStatus.Fail).Fix);
        Assert.Contains("does not share storage", results.Single(r => r.CheckId == "cluster.shared-marker" && r.Status == CheckStatus.Fail).Found);
    }

    [Fact]
    public void ClockSkewIsMeasuredAtTheHeartbeatsWriteNotBeforeItsSlowParts()
    {
        // This machine's clock and PostgreSQL's are the same clock; the shared storage takes 1.5 s to answer.
        var node = MakeNode(1);
        node.Machine.SharedStorageDelay = TimeSpan.FromSeconds(1.5);
        var request = new NodeRequest { ConfigRoot = node.Root, ConnectionString = _connection, Machine = node.Machine };
        HeartbeatOperations.RegisterNode(request, new RecordingHost());
        HeartbeatOperations.UpdateNodeStatus(request, new RecordingHost());
        var store = new ClusterStore(DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = _connection }));
        var skew = store.GetNodes(ClusterStore.DefaultOfflineAfter).Single().ClockSkew!.Value;
        Assert.InRange(skew.TotalSeconds, -0.5, 0.5);
    }

    [Fact]
    public void RightAfterTwoNodesRegisterAMarkerNotYetReadIsAWarnNotAFail()
    {
        var nodes = Enumerable.Range(1, 2).Select(n => MakeNode(n)).ToList();
        // As the node units start them: node1 registers, then node2; node1 has not beaten since node2 wrote its marker.
        foreach (var n in nodes) HeartbeatOperations.RegisterNode(Request(n), new RecordingHost());
        var early = Assert.Single(Verify(nodes[0], "cluster.shared-marker"));
        Assert.True(early.Status == CheckStatus.Warn, early.ToString());
        Assert.Equal(Address(1), early.Target);
        Assert.Contains($"has not read the marker of {Address(2)} yet", early.Found);
        Assert.Contains("next heartbeat", early.Fix);

        // Its next heartbeat reads it.
        HeartbeatOperations.UpdateNodeStatus(Request(nodes[0]), new RecordingHost());
        Assert.Equal(CheckStatus.Pass, Assert.Single(Verify(nodes[0], "cluster.shared-marker")).Status);
    }

    [Fact]
    public void AFingerprintTheStoreHoldsButCannotBeReadFailsTheChecksThatNeedIt()
    {
        var nodes = Enumerable.Range(1, 2).Select(n => MakeNode(n)).ToList();
        Settle(nodes);
        using (var connection = new Npgsql.NpgsqlConnection(_connection))
        {
            connection.Open();
            using var cmd = new Npgsql.NpgsqlCommand("""UPDATE wbadmin.node_fingerprint SET fingerprint = '{"ConfigHashes": 42}'""", connection);
            cmd.ExecuteNonQuery();
        }
        var results = Verify(nodes[0], "cluster.*");
        Assert.All(results, r =>
        {
            Assert.Equal(CheckStatus.Fail, r.Status);
            Assert.StartsWith("could not be checked: the cluster store could not be read: the fingerprint node ", r.Found);
        });
    }

    [Fact]
    public void ANodeWithoutAFingerprintFailsTheComparisonsAsNotChecked()
    {
        // As after an upgrade from a version that published none: node2 is registered and online, its fingerprint unknown.
        var nodes = Enumerable.Range(1, 2).Select(n => MakeNode(n)).ToList();
        Settle(nodes);
        using (var connection = new Npgsql.NpgsqlConnection(_connection))
        {
            connection.Open();
            using var cmd = new Npgsql.NpgsqlCommand($"DELETE FROM wbadmin.node_fingerprint f USING wbadmin.node n WHERE n.id = f.node_id AND n.host = '127.0.0.12'", connection);
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }
        var comparisons = new[] { "cluster.config-identical", "cluster.key", "cluster.protocol", "cluster.users", "cluster.shared-marker" };
        var results = Verify(nodes[0], comparisons);
        foreach (var id in comparisons)
        {
            var mine = results.Where(r => r.CheckId == id).ToList();
            var unchecked_ = Assert.Single(mine, r => r.Status == CheckStatus.Fail);
            Assert.Equal(Address(2), unchecked_.Target);
            Assert.StartsWith("could not be checked: this node has published no configuration fingerprint", unchecked_.Found);
            Assert.DoesNotContain(mine, r => r.Status == CheckStatus.Pass);
        }
        var quiet = new RecordingHost();
        ClusterVerifier.Run(new VerifyRequest { ConfigRoot = nodes[0].Root, ConnectionString = _connection, Machine = nodes[0].Machine, Check = comparisons, Quiet = true }, quiet);
        Assert.False(Assert.IsType<bool>(Assert.Single(quiet.Objects)));

        // The spec's shared storage path is compared through the fingerprints too: an unknown one is no pass.
        var spec = _dir.Write("spec.yaml", $"sharedStoragePath: {_shared}\n");
        var storage = ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = nodes[0].Root, ConnectionString = _connection, Machine = nodes[0].Machine, SpecPath = spec, Check = ["spec.shared-storage"] }, new RecordingHost());
        var notChecked = Assert.Single(storage, r => r.Status == CheckStatus.Fail);
        Assert.Equal(Address(2), notChecked.Target);
        Assert.DoesNotContain(storage, r => r.Status == CheckStatus.Pass);
    }

    [Fact]
    public void ClosedPortsAndTooManyConnectionsAreFound()
    {
        var nodes = Enumerable.Range(1, 2).Select(n => MakeNode(n)).ToList();
        var silent = MakeNode(3, listen: false);
        Settle(nodes.Append(silent));
        var reach = Verify(nodes[0], "network.reachable");
        var closed = Assert.Single(reach, r => r.Status == CheckStatus.Fail);
        Assert.Equal(Address(3), closed.Target);
        Assert.Contains($"HTTP port {_wwwPort} and launcher port {_launcherPort}", closed.Found);

        // 3 nodes × pool-size 90 against this server's 200 connections.
        foreach (var n in nodes.Append(silent)) File.WriteAllText(Path.Combine(n.Root, "database.conf"), "provider=postgresql\npool-size=90\n");
        var connections = Assert.Single(Verify(nodes[0], "database.connections"));
        Assert.Equal(CheckStatus.Fail, connections.Status);
        Assert.Contains("90 × 3 nodes = 270", connections.Found);
        Assert.Contains("max_connections", connections.Fix);
    }

    [Fact]
    public void SessionsAllOnOneNodeFailTheAcceptanceTest()
    {
        var nodes = Enumerable.Range(1, 2).Select(n => MakeNode(n)).ToList();
        Settle(nodes);
        var store = new ClusterStore(DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = _connection }));
        var only = store.GetNodes(ClusterStore.DefaultOfflineAfter).First();
        var pinned = new Core.Tests.Balancing.CustomScriptPinned(only.Address);
        for (var i = 0; i < 4; i++) store.PlaceSession(new PlacementRequest("user1", pinned));
        var spread = Assert.Single(Verify(nodes[0], "cluster.session-spread"));
        Assert.Equal(CheckStatus.Fail, spread.Status);
        Assert.Contains("4 sessions on 1 of 2 online nodes", spread.Found);

        for (var i = 0; i < 4; i++) store.PlaceSession(new PlacementRequest("user1", Core.Balancing.SessionsPolicy.Instance));
        Assert.Equal(CheckStatus.Pass, Assert.Single(Verify(nodes[0], "cluster.session-spread")).Status);
    }

    [Fact]
    public void TheSpecAddsItsDifferences()
    {
        var nodes = Enumerable.Range(1, 2).Select(n => MakeNode(n)).ToList();
        Settle(nodes);
        var spec = _dir.Write("cluster.yaml", $"""
            nodes:
              - {Address(1)}
              - {Address(2)}
              - {Address(5)}
            balancer: user-hash
            protocol: http
            database:
              host: db.cluster
              port: 5432
              name: rstudio
            sharedStoragePath: {_shared}
            """);
        var results = ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = nodes[0].Root, ConnectionString = _connection, Machine = nodes[0].Machine, SpecPath = spec, Check = ["spec.*"] }, new RecordingHost());
        var flagged = results.Where(r => r.Status != CheckStatus.Pass).Select(r => (r.CheckId, r.Target, r.Status)).ToList();
        Assert.Equal(new[] { ("spec.nodes", Address(5), CheckStatus.Fail), ("spec.balancer", nodes[0].Root, CheckStatus.Fail) }, flagged);
        Assert.Contains("Set-WbBalancer -Method user-hash", results.Single(r => r.CheckId == "spec.balancer").Fix);
    }

    [Fact]
    public void AMarkersDirectoryThatIsALinkFailsTheMarkerCheckAndSaysWhy()
    {
        var nodes = Enumerable.Range(1, 2).Select(n => MakeNode(n)).ToList();
        var markers = Path.Combine(_shared, NodeFingerprint.MarkerDirectory);
        var elsewhere = Directory.CreateDirectory(Path.Combine(_dir.Path, "etc-cron.d")).FullName;
        Directory.CreateSymbolicLink(markers, elsewhere);
        Settle(nodes);
        Assert.Empty(Directory.GetFileSystemEntries(elsewhere));
        var failed = Verify(nodes[0], "cluster.shared-marker").Where(r => r.Status == CheckStatus.Fail).ToList();
        Assert.Equal(new[] { Address(1), Address(2) }, failed.Select(r => r.Target).Order());
        Assert.All(failed, r =>
        {
            Assert.Contains($"{markers} is a symbolic link", r.Found);
            Assert.Contains($"rm {markers}", r.Fix);
        });
    }

    [Fact]
    public void AMissingSharedMountIsReportedAndNeverCreated()
    {
        var nodes = Enumerable.Range(1, 2).Select(n => MakeNode(n)).ToList();
        var unmounted = Path.Combine(_dir.Path, "not-mounted", "shared-storage");
        nodes[1].Machine.Mounts[_shared] = unmounted;
        Settle(nodes);
        Assert.False(Directory.Exists(unmounted));
        var marker = Verify(nodes[0], "cluster.shared-marker").Single(r => r.Status == CheckStatus.Fail);
        Assert.Equal(Address(2), marker.Target);
        Assert.Contains("does not exist on this node (is the shared storage mounted?)", marker.Found);
    }
}

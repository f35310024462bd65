using Npgsql;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Decisions;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;
using static WorkbenchAdmin.Core.Commands.Cluster.ClusterOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.HeartbeatOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.NodeOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.SessionOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.PasswordOperations;

namespace WorkbenchAdmin.Core.Tests.Commands;

/// <summary>The store cmdlets' operations, driven as the cmdlets drive them, against real configuration roots and PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterOperationsTests : IDisposable
{
    private readonly PostgresFixture _pg;
    private readonly TempDirectory _dir = new();
    private readonly string _database;
    /// <summary>Each node's rserver, standing in as a listener on its www-port (127.0.0.1, as www-address 0.0.0.0 is reached).</summary>
    private readonly Dictionary<int, System.Net.Sockets.TcpListener> _rservers = [];

    public ClusterOperationsTests(PostgresFixture pg)
    {
        _pg = pg;
        var target = pg.NewTarget();
        _database = target.Database;
    }

    public void Dispose()
    {
        foreach (var l in _rservers.Values) l.Stop();
        _dir.Dispose();
    }

    private System.Net.Sockets.TcpListener Rserver(int n) =>
        _rservers.TryGetValue(n, out var l) ? l : _rservers[n] = Loopback.Listen();

    /// <summary>A node's /etc/rstudio as the guide builds it, pointing at the test database, its rserver listening.</summary>
    private string NodeRoot(int n, string key = "the-cluster-key", bool deleteOnExit = false, bool ssl = false)
    {
        var root = Path.Combine(_dir.Path, $"node{n}");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "rserver.conf"),
            $"load-balancing-enabled=1\nserver-shared-storage-path=/nfs/shared\nwww-port={Loopback.PortOf(Rserver(n))}\n{(ssl ? "ssl-enabled=1\n" : "")}");
        File.WriteAllText(Path.Combine(root, "load-balancer"), $"www-host-name=node{n}.test:{(ssl ? 443 : 8787)}\nbalancer=sessions\n{(deleteOnExit ? "delete-node-on-exit=1\n" : "")}");
        File.WriteAllText(Path.Combine(root, "database.conf"),
            $"provider=postgresql\nhost=127.0.0.1\nport={_pg.Server.Port}\ndatabase={_database}\nusername=postgres\npassword={_pg.Server.Password}\n");
        File.WriteAllText(Path.Combine(root, "secure-cookie-key"), key + "\n");
        return root;
    }

    private static readonly NodeReport Quiet = new() { Load1 = 0.1, Load5 = 0.2, Load15 = 0.3, Cores = 4 };

    private RecordingHost Initialized(string root)
    {
        var host = new RecordingHost();
        Initialize(new StoreRequest { ConfigRoot = root }, host);
        return host;
    }

    private NodeInfo Register(string root, RecordingHost? host = null)
    {
        host ??= new RecordingHost();
        RegisterNode(new NodeRequest { ConfigRoot = root, Report = Quiet }, host);
        return host.ObjectsOf<NodeInfo>().Last();
    }

    [Fact]
    public void InitializeReportsTheSchemaAndWarnsAboutThePlainTextPassword()
    {
        var root = NodeRoot(1);
        var host = Initialized(root);
        var status = Assert.Single(host.ObjectsOf<DatabaseSchemaStatus>());
        Assert.Equal((Schema.LatestVersion, Schema.Migrations.Count), (status.Version, status.Applied.Count));
        Assert.Contains(host.Warnings, w => w.Contains("plain text"));
        var again = Initialized(root);
        Assert.Empty(again.ObjectsOf<DatabaseSchemaStatus>().Single().Applied);
    }

    [Fact]
    public void InitializeUnderWhatIfCreatesNothing()
    {
        var root = NodeRoot(1);
        var host = new RecordingHost(confirm: false);
        Initialize(new StoreRequest { ConfigRoot = root }, host);
        Assert.Empty(host.Objects);
        using var connection = new NpgsqlConnection(_pg.Server.ConnectionString(_database));
        connection.Open();
        using var cmd = new NpgsqlCommand("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'wbadmin'", connection);
        Assert.Equal(0L, (long)cmd.ExecuteScalar()!);
    }

    [Fact]
    public void NodesJoinFromTheirConfigurationAndMismatchesAreFlagged()
    {
        Initialized(NodeRoot(1));
        var first = Register(NodeRoot(1));
        Assert.Equal(("node1.test", 8787, NodeStatus.Online), (first.Host, first.Port, first.Status));
        Assert.Equal(NodeStatus.Online, Register(NodeRoot(2)).Status);

        var host = new RecordingHost();
        var bad = Register(NodeRoot(3, key: "another-key"), host);
        Assert.Equal(NodeStatus.InvalidKey, bad.Status);
        Assert.Contains(host.Warnings, w => w.Contains("secure-cookie-key"));
        Assert.Equal(NodeStatus.ProtocolMismatch, Register(NodeRoot(4, ssl: true)).Status);

        var list = new RecordingHost();
        GetNodes(new GetNodeRequest { ConfigRoot = NodeRoot(1), Status = ["online"] }, list);
        Assert.Equal(["node1.test:8787", "node2.test:8787"], list.ObjectsOf<NodeInfo>().Select(n => n.Address));
        var byHost = new RecordingHost();
        GetNodes(new GetNodeRequest { ConfigRoot = NodeRoot(1), HostName = ["node[34]*"], Id = [999] }, byHost);
        Assert.Empty(byHost.ObjectsOf<NodeInfo>()); // id 999 filters everything out...
        Assert.Equal("NodeNotFound", Assert.Single(byHost.Errors).ErrorId); // ...and is reported
    }

    [Fact]
    public void HeartbeatNeedsRegistrationAndPassThruShowsTheNode()
    {
        var root = NodeRoot(1);
        Initialized(root);
        var e = Assert.Throws<WbException>(() => UpdateNodeStatus(new NodeRequest { ConfigRoot = root, Report = Quiet }, new RecordingHost()));
        Assert.Equal("NodeNotRegistered", e.ErrorId);
        Register(root);
        var host = new RecordingHost();
        UpdateNodeStatus(new NodeRequest { ConfigRoot = root, Report = Quiet with { Load5 = 7.5 }, PassThru = true }, host);
        Assert.Equal(7.5, Assert.Single(host.ObjectsOf<NodeInfo>()).Load5);
        var silent = new RecordingHost();
        UpdateNodeStatus(new NodeRequest { ConfigRoot = root, Report = Quiet }, silent);
        Assert.Empty(silent.Objects);
    }

    [Fact]
    public void AHeartbeatFromThisMachineReadsProcLoadavg()
    {
        var report = NodeReport.FromMachine();
        Assert.True(report.Load1 >= 0 && report.Cores == Environment.ProcessorCount);
        using var dir = new TempDirectory();
        var fake = dir.Write("loadavg", "1.50 0.75 0.25 2/345 6789\n");
        var r = NodeReport.FromMachine(loadAveragePath: fake);
        Assert.Equal((1.5, 0.75, 0.25), (r.Load1, r.Load5, r.Load15));
    }

    [Fact]
    public void UnregisterHonoursDeleteNodeOnExit()
    {
        var keep = NodeRoot(1);
        var leave = NodeRoot(2, deleteOnExit: true);
        Initialized(keep);
        Register(keep);
        Register(leave);
        var host = new RecordingHost();
        UnregisterNode(new NodeRequest { ConfigRoot = keep }, host);
        Assert.Contains(host.Verbose, v => v.Contains("delete-node-on-exit is not set") && v.Contains("Offline"));
        UnregisterNode(new NodeRequest { ConfigRoot = leave }, new RecordingHost());
        var nodes = new RecordingHost();
        GetNodes(new GetNodeRequest { ConfigRoot = keep }, nodes);
        // The node that left without delete-node-on-exit stays registered, Offline at once (not after its heartbeat ages).
        Assert.Equal([("node1.test", NodeStatus.Offline)], nodes.ObjectsOf<NodeInfo>().Select(n => (n.Host, n.Status)));
        Assert.Equal(NodeStatus.Online, Register(keep).Status); // until it registers again
        UnregisterNode(new NodeRequest { ConfigRoot = keep, Force = true }, new RecordingHost());
        var none = new RecordingHost();
        GetNodes(new GetNodeRequest { ConfigRoot = keep }, none);
        Assert.Empty(none.Objects);
    }

    [Fact]
    public void AHeartbeatReportsTheNodeOfflineWhileRserverDoesNotAnswerOnItsPort()
    {
        var root = NodeRoot(1);
        Initialized(root);
        Register(root);
        Register(NodeRoot(2));
        NodeInfo Beat(RecordingHost host)
        {
            UpdateNodeStatus(new NodeRequest { ConfigRoot = root, Report = Quiet, PassThru = true }, host);
            return Assert.Single(host.ObjectsOf<NodeInfo>());
        }
        var up = new RecordingHost();
        Assert.Equal(NodeStatus.Online, Beat(up).Status);
        Assert.DoesNotContain(up.Warnings, w => w.Contains("not answering"));

        // rstudio-server stopped or crashed: nothing listens on www-port any more.
        var port = Loopback.PortOf(Rserver(1));
        Rserver(1).Stop();
        var down = new RecordingHost();
        Assert.Equal(NodeStatus.Offline, Beat(down).Status);
        var warning = Assert.Single(down.Warnings, w => w.Contains("not answering"));
        Assert.Contains($"127.0.0.1:{port}", warning);
        Assert.Contains("rserver.conf", warning);
        var placer = NewSession.Begin(new NewSessionRequest { ConfigRoot = root }, new RecordingHost());
        var placed = new RecordingHost();
        for (var i = 0; i < 3; i++) placer.Place($"user{i}", placed);
        Assert.All(placed.ObjectsOf<SessionInfo>(), s => Assert.Equal("node2.test:8787", s.Node));

        // Back: the next heartbeat brings it online.
        _rservers[1] = Loopback.Listen(port: port);
        Assert.Equal(NodeStatus.Online, Beat(new RecordingHost()).Status);
    }

    [Fact]
    public void RemoveNodeRefusesAnOnlineNodeWithoutForceAndHonoursShouldProcess()
    {
        var root = NodeRoot(1);
        Initialized(root);
        var node = Register(root);
        var refused = new RecordingHost();
        RemoveNode(new RemoveNodeRequest { ConfigRoot = root, Id = [node.Id] }, refused);
        Assert.Equal(("NodeIsOnline", WbErrorCategory.InvalidOperation), (refused.Errors.Single().ErrorId, refused.Errors.Single().Category));

        var declined = new RecordingHost(confirm: false);
        RemoveNode(new RemoveNodeRequest { ConfigRoot = root, Id = [node.Id], Force = true }, declined);
        Assert.Single(declined.ShouldProcessCalls);
        var still = new RecordingHost();
        GetNodes(new GetNodeRequest { ConfigRoot = root }, still);
        Assert.Single(still.ObjectsOf<NodeInfo>());

        RemoveNode(new RemoveNodeRequest { ConfigRoot = root, Id = [node.Id], Force = true }, new RecordingHost());
        var missing = new RecordingHost();
        RemoveNode(new RemoveNodeRequest { ConfigRoot = root, Id = [node.Id] }, missing);
        Assert.Equal(("NodeNotFound", WbErrorCategory.ObjectNotFound), (missing.Errors.Single().ErrorId, missing.Errors.Single().Category));
    }

    [Fact]
    public void SessionsArePlacedListedAndEndedThroughTheOperations()
    {
        var root = NodeRoot(1);
        Initialized(root);
        Register(root);
        Register(NodeRoot(2));
        var host = new RecordingHost();
        var placer = NewSession.Begin(new NewSessionRequest { ConfigRoot = root }, host);
        foreach (var user in new[] { "user1", "user1", "user1", "user1", " bad" }) placer.Place(user, host);
        var sessions = host.ObjectsOf<SessionInfo>().ToList();
        Assert.Equal(4, sessions.Count);
        Assert.Equal([2, 2], sessions.GroupBy(s => s.Node).Select(g => g.Count()));
        Assert.Equal("InvalidUserName", Assert.Single(host.Errors).ErrorId); // one bad name, the rest placed

        var text = new RecordingHost();
        GetSessionLoad(new SessionLoadRequest { ConfigRoot = root, AsText = true }, text);
        var page = Assert.IsType<string>(Assert.Single(text.Objects));
        Assert.StartsWith("node1.test:8787 -  Load: 0.1, 0.2, 0.3\n   ", page);
        var reparsed = new RecordingHost();
        GetSessionLoad(new SessionLoadRequest { Text = page }, reparsed);
        Assert.Equal([2, 2], reparsed.ObjectsOf<NodeSessionLoad>().Select(l => l.SessionCount));

        var ending = new RecordingHost();
        RemoveSession(new RemoveSessionRequest { ConfigRoot = root, Id = [sessions[0].Id] }, ending);
        RemoveSession(new RemoveSessionRequest { ConfigRoot = root, Id = [sessions[0].Id] }, ending);
        Assert.Equal("SessionNotFound", Assert.Single(ending.Errors).ErrorId);
        var left = new RecordingHost();
        GetSessions(new GetSessionRequest { ConfigRoot = root, UserName = ["user1"] }, left);
        Assert.Equal(3, left.ObjectsOf<SessionInfo>().Count());

        var declined = new RecordingHost(confirm: false);
        NewSession.Begin(new NewSessionRequest { ConfigRoot = root }, declined).Place("user2", declined);
        Assert.Empty(declined.Objects);
    }

    [Fact]
    public void InvokeBalanceDecisionTakesCandidatesFromTheStoreByDefault()
    {
        var root = NodeRoot(1);
        Initialized(root);
        Register(root);
        Register(NodeRoot(2));
        var host = new RecordingHost();
        var op = BalanceDecisionOperation.Begin(new InvokeBalanceDecisionRequest { ConfigRoot = root, Method = "user-hash" }, host);
        Assert.Equal(2, op.Candidates.Count);
        op.Decide("alice", host);
        Assert.Contains(Assert.Single(host.ObjectsOf<BalanceDecision>()).Node, new[] { "node1.test:8787", "node2.test:8787" });
    }

    [Fact]
    public void ResetClusterAsksFirstAndClears()
    {
        var root = NodeRoot(1);
        Initialized(root);
        Register(root);
        var declined = new RecordingHost(confirm: false);
        ResetCluster(new StoreRequest { ConfigRoot = root }, declined);
        Assert.Contains("PostgreSQL at 127.0.0.1", declined.ShouldProcessCalls.Single().Target);
        ResetCluster(new StoreRequest { ConfigRoot = root }, new RecordingHost());
        // A node with a different key now defines the cluster again.
        Assert.Equal(NodeStatus.Online, Register(NodeRoot(5, key: "rotated-key")).Status);
    }

    [Fact]
    public void ProtectedPasswordsAreWrittenAndUsedToConnect()
    {
        var root = NodeRoot(1);
        var host = new RecordingHost();
        ProtectPassword(new ProtectPasswordRequest { ConfigRoot = root, Password = new SecretValue(_pg.Server.Password), Apply = true }, host);
        var conf = File.ReadAllText(Path.Combine(root, "database.conf"));
        Assert.Contains("password=" + PasswordProtector.Prefix, conf);
        Assert.DoesNotContain(_pg.Server.Password, conf);
        var init = Initialized(root);
        Assert.DoesNotContain(init.Warnings, w => w.Contains("plain text"));
        Assert.Single(init.ObjectsOf<DatabaseSchemaStatus>());

        var shown = new RecordingHost();
        ProtectPassword(new ProtectPasswordRequest { ConfigRoot = root, Password = new SecretValue("x") }, shown);
        Assert.StartsWith(PasswordProtector.Prefix, Assert.IsType<string>(Assert.Single(shown.Objects)));
    }

    [Theory]
    [InlineData("postgresql://postgres:{0}@127.0.0.1:{1}/{2}?sslmode=disable", "postgresql://postgres@127.0.0.1:{1}/{2}?sslmode=disable")]
    [InlineData("postgres://postgres@127.0.0.1:{1}/{2}?password={0}&sslmode=disable", "postgres://postgres@127.0.0.1:{1}/{2}?sslmode=disable")]
    public void ProtectApplyMovesThePasswordOutOfTheConnectionUri(string uriFormat, string expectedFormat)
    {
        var root = NodeRoot(1);
        var password = _pg.Server.Password;
        var uri = string.Format(System.Globalization.CultureInfo.InvariantCulture, uriFormat, password, _pg.Server.Port, _database);
        File.WriteAllText(Path.Combine(root, "database.conf"), $"# the store\nprovider=postgresql\nconnection-uri={uri}\n");
        ProtectPassword(new ProtectPasswordRequest { ConfigRoot = root, Password = new SecretValue(password), Apply = true }, new RecordingHost());

        var conf = File.ReadAllText(Path.Combine(root, "database.conf"));
        Assert.DoesNotContain(password, conf);
        var expected = string.Format(System.Globalization.CultureInfo.InvariantCulture, expectedFormat, password, _pg.Server.Port, _database);
        Assert.StartsWith($"# the store\nprovider=postgresql\nconnection-uri={expected}\npassword={PasswordProtector.Prefix}", conf);
        var init = Initialized(root);
        Assert.Single(init.ObjectsOf<DatabaseSchemaStatus>());
        Assert.DoesNotContain(init.Warnings, w => w.Contains("plain text"));
        var check = Core.Verification.ClusterVerifier.Verify(new Core.Verification.VerifyRequest { ConfigRoot = root, Check = ["security.plain-password"] }, new RecordingHost());
        Assert.Equal(CheckStatus.Pass, Assert.Single(check).Status);
    }

    [Fact]
    public void TheDemoClusterStepsWorkOnCopiesOfTheExampleConfiguration()
    {
        // examples/demo-cluster.ps1, step by step, through the same operations its cmdlets call.
        var connection = _pg.Server.ConnectionString(_database);
        var roots = new List<string>();
        foreach (var n in new[] { 1, 2 })
        {
            var root = Path.Combine(_dir.Path, $"demo{n}");
            Directory.CreateDirectory(root);
            foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "examples", "etc-rstudio")))
                File.Copy(file, Path.Combine(root, Path.GetFileName(file)));
            WorkbenchAdmin.Core.Commands.Balancer.BalancerOperations.Set(new WorkbenchAdmin.Core.Commands.Balancer.SetBalancerRequest { ConfigRoot = root, Method = "sessions", WwwHostName = $"node{n}.demo:8787" }, new RecordingHost());
            File.WriteAllText(Path.Combine(root, "secure-cookie-key"), "demo-key\n");
            // As the demo does: this node's rserver is a listener on a port of its own.
            File.AppendAllText(Path.Combine(root, "rserver.conf"), $"www-address=127.0.0.1\nwww-port={Loopback.PortOf(Rserver(10 + n))}\n");
            roots.Add(root);
        }
        var host = new RecordingHost();
        Initialize(new StoreRequest { ConnectionString = connection }, host);
        foreach (var root in roots)
        {
            RegisterNode(new NodeRequest { ConfigRoot = root, ConnectionString = connection }, host);
            UpdateNodeStatus(new NodeRequest { ConfigRoot = root, ConnectionString = connection }, host);
        }
        var placer = NewSession.Begin(new NewSessionRequest { ConfigRoot = roots[0], ConnectionString = connection }, host);
        for (var i = 0; i < 4; i++) placer.Place("user1", host);
        GetNodes(new GetNodeRequest { ConnectionString = connection }, host);
        GetSessionLoad(new SessionLoadRequest { ConnectionString = connection, AsText = true }, host);

        Assert.Empty(host.Errors);
        Assert.Equal(2, host.ObjectsOf<NodeInfo>().Count(n => n.Online && n.ActiveSessions == 2));
        var page = host.ObjectsOf<string>().Single();
        Assert.Equal(2, page.Split('\n').Count(l => l.Contains(" -  Load: ")));
        Assert.Equal(4, page.Split('\n').Count(l => l.EndsWith(" - user1")));
    }

    [Fact]
    public void SessionLoadIsReadFromANodesStatusPageByUrl()
    {
        const string page = "node1:8787 -  Load: 0.5, 0.25, 0\n   4242 - alice\nnode2:8787 -  Load: 1, 1, 1\n";
        var port = Loopback.FreePort();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serve = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            var body = System.Text.Encoding.UTF8.GetBytes(context.Request.Url!.AbsolutePath == "/load-balancer/status" ? page : "");
            context.Response.StatusCode = body.Length > 0 ? 200 : 404;
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        });
        var host = new RecordingHost();
        GetSessionLoad(new SessionLoadRequest { Uri = new Uri($"http://127.0.0.1:{port}/load-balancer/status") }, host);
        var loads = host.ObjectsOf<NodeSessionLoad>().ToList();
        Assert.Equal(["node1:8787", "node2:8787"], loads.Select(l => l.Address));
        Assert.Equal(new SessionEntry(4242, "alice"), loads[0].Sessions.Single());

        listener.Stop();
        var e = Assert.Throws<WbException>(() => GetSessionLoad(new SessionLoadRequest { Uri = new Uri($"http://127.0.0.1:{port}/load-balancer/status") }, new RecordingHost()));
        Assert.Equal(("StatusPageUnreachable", WbErrorCategory.ConnectionError), (e.ErrorId, e.Category));
    }
}

using System.Net.Sockets;
using System.Text;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Store;
using WorkbenchAdmin.Core.Tests.Support;

using WorkbenchAdmin.Core.Tests.Balancing;

namespace WorkbenchAdmin.Core.Tests.Live;

/// <summary>A listener at a socket path that is not the decision service: it answers what the test says, or never.</summary>
internal sealed class FakeService : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly List<Socket> _held = [];
    private int _connections;

    /// <param name="answer">What to send back; null never answers (the connection is held open).</param>
    public FakeService(string path, string? answer)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(16);
        _ = Task.Run(async () =>
        {
            while (true)
            {
                Socket client;
                try { client = await _listener.AcceptAsync(); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
                Interlocked.Increment(ref _connections);
                if (answer is null) { lock (_held) _held.Add(client); continue; }
                using (client)
                {
                    await DecisionProtocol.ReadToEnd(client, CancellationToken.None);
                    await client.SendAsync(Encoding.UTF8.GetBytes(answer), SocketFlags.None);
                }
            }
        });
    }

    public int Connections => Volatile.Read(ref _connections);

    public void Dispose()
    {
        _listener.Dispose();
        lock (_held) _held.ForEach(s => s.Dispose());
    }
}

[Collection(PostgresCollection.Name)]
public sealed class DecisionServiceTests(PostgresFixture pg) : IDisposable
{
    private readonly List<DatabaseTarget> _targets = [];

    /// <summary>Each test's database pools closed when it ends: two dozen tests must not hold the shared server's connections.</summary>
    public void Dispose() => _targets.ForEach(DataSources.Release);

    private const string Nodes = "node1.example.com:8787,node2.example.com:8787,node3.example.com:8787";
    private static readonly TimeSpan Offline = ClusterStore.DefaultOfflineAfter;

    private (ClusterStore Store, InstalledBalancer Balancer) Cluster(string policy)
    {
        var target = pg.NewTarget();
        _targets.Add(target);
        var store = new ClusterStore(target);
        store.Initialize();
        store.WithNodes(3);
        return (store, new InstalledBalancer(target, policy));
    }

    /// <summary>A socket file no one listens on, as a service killed with SIGKILL leaves it.</summary>
    private static void LeaveStaleSocket(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        dead.Bind(new UnixDomainSocketEndPoint(path + ".bound"));
        File.Move(path + ".bound", path); // .NET removes the file it bound when the socket closes: this one it does not know
    }

    private static DecisionService Serve(InstalledBalancer b, TextWriter? log = null) => DecisionService.Start(b.ProgramPath, log ?? TextWriter.Null);

    [Fact]
    public void TheServiceAnswersExactlyAsTheProgramWouldDecideItself()
    {
        var (store, b) = Cluster("method=sessions\nsticky=1");
        using var _ = b;
        for (var i = 0; i < 7; i++) store.PlaceSession(new PlacementRequest($"p{i}", new CustomScriptPinned($"node{i % 3 + 1}.example.com:8787")));
        var users = Enumerable.Range(0, 30).Select(i => $"user{i % 10}").Append("p1").Append("p2").ToList();
        var alone = users.Select(u => b.Run(u, Nodes)).ToList();
        using var service = Serve(b);
        var served = users.Select(u => b.Run(u, Nodes)).ToList();
        Assert.Equal(alone.Select(r => (r.Exit, r.Out)), served.Select(r => (r.Exit, r.Out)));
        Assert.Equal(users.Count, service.Served);
        // The service's own messages come back on the program's stderr (here: the status page is down).
        Assert.All(served, r => Assert.Contains("status page", r.Error));
    }

    [Fact]
    public void ADrainReachesTheServiceAtOnce()
    {
        var (store, b) = Cluster("method=consistent-hash");
        using var _ = b;
        using var service = Serve(b);
        var before = Enumerable.Range(0, 60).Count(u => b.Run($"user{u}", Nodes).Out == "node2.example.com:8787\n");
        Assert.True(before > 5, $"node2 was chosen {before} times of 60 before the drain");
        store.SetDraining(2, true, Offline);
        Assert.All(Enumerable.Range(0, 60), u => Assert.NotEqual("node2.example.com:8787\n", b.Run($"user{u}", Nodes).Out));
        Assert.Equal(120, service.Served);
    }

    /// <summary>The decision service's connections open to the store's database.</summary>
    private static long ServiceConnections(ClusterStore store) => store.Use(c =>
    {
        using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1", c);
        count.Parameters.Add(new Npgsql.NpgsqlParameter { Value = DecisionService.ApplicationName });
        return (long)count.ExecuteScalar()!;
    }, CancellationToken.None);

    [Fact]
    public void FiftyConcurrentCallsForOneUserAreAllAnsweredAlike()
    {
        var (store, b) = Cluster("method=user-hash");
        using var __ = b;
        var service = Serve(b);
        // Fifty programs in one process: each blocks a thread while it waits, as fifty processes would not.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 128), io);
        var results = new (int Exit, string Out, string Error, TimeSpan Elapsed)[50];
        Parallel.For(0, 50, new ParallelOptions { MaxDegreeOfParallelism = 50 }, i => results[i] = b.Run("alice", Nodes));
        Assert.All(results, r => Assert.Equal(0, r.Exit));
        Assert.Single(results.Select(r => r.Out).Distinct());
        Assert.Equal(50, service.Served);
        // A burst of logins on every node must not take all of the server's connections.
        Assert.InRange(ServiceConnections(store), 1, DecisionService.MaxConnections);
        service.Dispose();
        // A backend leaves pg_stat_activity as it exits, just after its client closed the connection.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (ServiceConnections(store) > 0 && waited.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
        Assert.Equal(0, ServiceConnections(store));
    }

    [Fact]
    public void ARefusalFromTheServiceIsTheProgramsRefusal()
    {
        var (store, b) = Cluster("method=sessions");
        using var _ = b;
        using var service = Serve(b);
        for (var n = 1; n <= 3; n++) store.SetDraining(n, true, Offline);
        var (exit, output, error, _) = b.Run("alice", Nodes);
        Assert.Equal(BalancerProgram.CannotChoose, exit);
        Assert.Equal("", output);
        Assert.Contains("drain", error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, service.Served);
    }

    [Fact]
    public void WithoutAServiceTheProgramDecidesItselfAndSaysNothingOfIt()
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        var (exit, _, error, _) = b.Run("alice", Nodes);
        Assert.Equal(0, exit);
        Assert.DoesNotContain("decision service", error);
    }

    [Fact]
    public void ASocketLeftByAStoppedServiceIsReportedAndTheProgramDecidesItself()
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        LeaveStaleSocket(b.ServiceSocket);
        var (exit, output, error, _) = b.Run("alice", Nodes);
        Assert.Equal(0, exit);
        Assert.Contains(output.TrimEnd('\n'), Nodes.Split(','));
        Assert.Contains($"the decision service at {b.ServiceSocket} could not be asked", error);
    }

    [Fact]
    public void AServiceThatNeverAnswersIsLeftAtHalfTheDeadline()
    {
        // Half the deadline for the service leaves the other half to read the store on a loaded machine.
        var (store, b) = Cluster("method=sessions\ndeadline-ms=6000");
        using var _ = b;
        store.PlaceSession(new PlacementRequest("x", new CustomScriptPinned("node1.example.com:8787")));
        using var hung = new FakeService(b.ServiceSocket, answer: null);
        var (exit, output, error, elapsed) = b.Run("alice", Nodes);
        Assert.Equal(0, exit);
        Assert.Equal("node2.example.com:8787\n", output); // decided by the program itself, from the store
        Assert.Contains("did not answer within 3000 ms", error);
        Assert.Equal(1, hung.Connections);
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(3000), $"answered after {elapsed.TotalMilliseconds:0} ms, before half the deadline");
        Assert.True(elapsed < TimeSpan.FromMilliseconds(6000 + 1000), $"answered after {elapsed.TotalMilliseconds:0} ms; the deadline is 6000 ms");
    }

    [Theory]
    [InlineData("0\nevil.example.com:8787\n")]   // not an entry of RSTUDIO_NODES
    [InlineData("0\nnode1.example.com:8787 \n")] // not exactly one
    [InlineData("7\n\n")]                          // not an exit code the program gives
    [InlineData("1\nnode1.example.com:8787\n")]  // a refusal that prints a node
    [InlineData("garbage")]
    public void AnAnswerThatIsNotADecisionIsNotUsed(string answer)
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        var own = b.Run("alice", Nodes).Out;
        using var fake = new FakeService(b.ServiceSocket, answer);
        var (exit, output, error, _) = b.Run("alice", Nodes);
        Assert.Equal(1, fake.Connections);
        Assert.Equal(0, exit);
        Assert.Equal(own, output);
        Assert.Contains("gave an answer that is not a decision", error);
    }

    [Fact]
    public void ASocketInADirectoryOthersCanChangeIsNeverAsked()
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        var directory = Path.GetDirectoryName(b.ServiceSocket)!;
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111); // 777, not sticky: anyone could have put it there
        using var planted = new FakeService(b.ServiceSocket, "0\nnode1.example.com:8787\n");
        var (exit, _, error, _) = b.Run("alice", Nodes);
        Assert.Equal(0, exit);
        Assert.Equal(0, planted.Connections);
        Assert.Contains("the decision service was not asked", error);
        Assert.Contains("writable by others", error);
    }

    [Fact]
    public void AFileThatIsNotASocketIsNeverAsked()
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        Directory.CreateDirectory(Path.GetDirectoryName(b.ServiceSocket)!);
        File.WriteAllText(b.ServiceSocket, "");
        var (exit, _, error, _) = b.Run("alice", Nodes);
        Assert.Equal(0, exit);
        Assert.Contains($"{b.ServiceSocket} is not a socket", error);
    }

    [Fact]
    public void TheServiceMakesItsDirectoryRootOnlyAndItsSocketOwnerOnly()
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        using var service = Serve(b);
        var directory = UnixFile.TryStat(Path.GetDirectoryName(b.ServiceSocket)!)!.Value;
        Assert.Equal((UnixFileMode)0b111_000_000, directory.Mode);
        var socket = UnixFile.TryStat(b.ServiceSocket, followLinks: false)!.Value;
        Assert.Equal(UnixFileType.Socket, socket.Type);
        Assert.Equal((UnixFileMode)0b110_000_000, socket.Mode);
    }

    [Fact]
    public void ASecondServiceOnTheSameSocketIsRefusedAndAStaleSocketIsReplaced()
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        using (var first = Serve(b))
        {
            var refused = Assert.Throws<WbException>(() => Serve(b));
            Assert.Equal("ServiceSocketInUse", refused.ErrorId);
            Assert.Contains("another decision service answers there", refused.Message);
        }
        Assert.False(File.Exists(b.ServiceSocket)); // stopping removed it
        LeaveStaleSocket(b.ServiceSocket);
        using var second = Serve(b);
        Assert.Equal(0, b.Run("alice", Nodes).Exit);
        Assert.Equal(1, second.Served);
    }

    [Fact]
    public void AServiceIsNotStartedOverAFileThatIsNotASocket()
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        Directory.CreateDirectory(Path.GetDirectoryName(b.ServiceSocket)!);
        File.WriteAllText(b.ServiceSocket, "precious");
        var refused = Assert.Throws<WbException>(() => Serve(b));
        Assert.Contains("exists and is not a socket", refused.Message);
        Assert.Equal("precious", File.ReadAllText(b.ServiceSocket));
    }

    [Fact]
    public void AfterTheServiceStopsTheProgramDecidesItselfWithoutComplaint()
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        var log = new StringWriter();
        var service = Serve(b, log);
        Assert.Equal(0, b.Run("alice", Nodes).Exit);
        service.Dispose();
        Assert.True(service.Completion.IsCompleted);
        var (exit, _, error, _) = b.Run("alice", Nodes);
        Assert.Equal(0, exit);
        Assert.DoesNotContain("decision service", error);
        Assert.Contains($"serving decisions at {b.ServiceSocket}", log.ToString());
        Assert.Contains("stopped serving", log.ToString());
        Assert.Contains("after 1 calls", log.ToString());
    }

    [Fact]
    public void APingTellsWhetherAServiceAnswersAndDecidesNothing()
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        var wait = TimeSpan.FromSeconds(5);
        Assert.Null(DecisionClient.IsAnswering(b.ServiceSocket, wait));
        using (var service = Serve(b))
        {
            Assert.True(DecisionClient.IsAnswering(b.ServiceSocket, wait));
            Assert.Equal(0, service.Served);
        }
        LeaveStaleSocket(b.ServiceSocket);
        Assert.False(DecisionClient.IsAnswering(b.ServiceSocket, wait));
        File.Delete(b.ServiceSocket);
        using var fake = new FakeService(b.ServiceSocket, "0\nnode1.example.com:8787\n");
        Assert.False(DecisionClient.IsAnswering(b.ServiceSocket, wait));
    }

    [Fact]
    public void AGarbledRequestGetsARefusalNotADecision()
    {
        var (_, b) = Cluster("method=user-hash");
        using var __ = b;
        using var service = Serve(b);
        var reply = DecisionClient.Exchange(b.ServiceSocket, Encoding.UTF8.GetBytes("wbadmin-balancer/9\nalice\nnode1:8787\n"), TimeSpan.FromSeconds(10));
        var answer = DecisionProtocol.ParseAnswer(reply!);
        Assert.Equal(BalancerProgram.BadInvocation, answer!.ExitCode);
        Assert.Equal("", answer.Output);
        Assert.Contains("could not read the request", answer.Error);
    }

    [Theory]
    [InlineData("wbadmin-balancer/1\nalice\nn1:1\n", true)]
    [InlineData("wbadmin-balancer/1\nalice\nn1:1", false)]
    [InlineData("wbadmin-balancer/1\nalice\nn1:1\nextra\n", false)]
    [InlineData("wbadmin-balancer/2\nalice\nn1:1\n", false)]
    public void RequestsAreReadOnlyInTheirExactForm(string text, bool valid) =>
        Assert.Equal(valid, DecisionProtocol.ParseRequest(Encoding.UTF8.GetBytes(text)) is not null);

    [Fact]
    public void AnswersCarryTheExitCodeTheLineAndStderr()
    {
        var answer = DecisionProtocol.ParseAnswer(DecisionProtocol.Answer(0, "n1:1\n", "a\nb\n"));
        Assert.Equal(new ServiceAnswer(0, "n1:1", "a\nb\n"), answer);
    }

    [Fact]
    public void TheServiceKeepsTheStoresViewForTheCallsMadeWithoutIt()
    {
        var (_, b) = Cluster("method=consistent-hash");
        using var _ = b;
        using (Serve(b)) Assert.Equal(0, b.Run("alice", Nodes).Exit);
        var kept = new StoreSnapshot(TimeProvider.System).ReadFresh(b.StateDirectory, b.ConfigRoot, TimeSpan.FromMinutes(1), out var problem);
        Assert.Null(problem);
        Assert.Equal(3, kept?.Nodes.Count);
    }
}

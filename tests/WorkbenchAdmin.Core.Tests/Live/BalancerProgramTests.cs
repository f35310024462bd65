using System.Runtime.CompilerServices;
using System.Diagnostics;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Store;
using WorkbenchAdmin.Core.Tests.Support;

using WorkbenchAdmin.Core.Tests.Balancing;

namespace WorkbenchAdmin.Core.Tests.Live;

/// <summary>
/// An installed balancer: a program path with its pointer beside it, a configuration root whose
/// workbenchadmin.conf holds the policy, database.conf naming a real store, and a real status page.
/// </summary>
internal sealed class InstalledBalancer : IDisposable
{
    private readonly TempDirectory _dir = new();

    public InstalledBalancer(DatabaseTarget? store, string policy, string? statusUri = null)
    {
        ConfigRoot = Directory.CreateDirectory(_dir.File("etc")).FullName;
        Bin = Directory.CreateDirectory(_dir.File("bin")).FullName;
        StateDirectory = _dir.File("state");
        // The test's own: a decision service on this machine must never answer a test's calls.
        ServiceSocket = _dir.File("run/balancer.sock");
        ProgramPath = Path.Combine(Bin, "rserver-balancer");
        File.WriteAllText(ProgramSettings.PointerPathOf(ProgramPath), $"config-root={ConfigRoot}\n");
        File.WriteAllText(Path.Combine(ConfigRoot, "rserver.conf"), "load-balancing-enabled=1\n");
        File.WriteAllText(Path.Combine(ConfigRoot, "load-balancer"), "balancer=custom\n");
        if (store is not null)
            File.WriteAllText(Path.Combine(ConfigRoot, "database.conf"),
                $"provider=postgresql\nhost={store.Host}\nport={store.Port}\ndatabase={store.Database}\nusername={store.UserName}\npassword={PasswordOf(store)}\nconnection-timeout-seconds=5\n");
        WritePolicy(policy, statusUri);
    }

    public string ConfigRoot { get; }
    public string Bin { get; }
    public string ProgramPath { get; }
    public string StateDirectory { get; }
    public string ServiceSocket { get; }

    /// <remarks>
    /// Unless the test is about the deadline, a generous one: a loaded test machine must not turn a decision
    /// into a fallback (which is right, and tested on its own, but not what these tests look at).
    /// </remarks>
    public void WritePolicy(string policy, string? statusUri = null) =>
        File.WriteAllText(Path.Combine(ConfigRoot, ModuleSettings.FileName),
            $"[balancer]\n{policy}\n{(policy.Contains("deadline-ms") ? "" : "deadline-ms=20000\n")}" +
            $"state-directory={StateDirectory}\nservice-socket={ServiceSocket}\n" +
            $"status-url={statusUri ?? $"http://127.0.0.1:{Loopback.FreePort()}/load-balancer/status"}\n");

    private static string PasswordOf(DatabaseTarget t) =>
        new Npgsql.NpgsqlConnectionStringBuilder(t.ConnectionString).Password!;

    /// <summary>Runs the program's logic in this process, as Workbench's call would: what it printed, its stderr, its exit code.</summary>
    public (int Exit, string Out, string Error, TimeSpan Elapsed) Run(string user, string nodes, Func<ConfigRoot, StoreView>? readStore = null,
                                                                      TimeProvider? time = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var watch = Stopwatch.StartNew();
        var exit = BalancerProgram.Run(new BalancerInvocation
        {
            UserName = user, Nodes = nodes, ProgramPath = ProgramPath, Out = output, Error = error, ReadStore = readStore,
            Time = time ?? TimeProvider.System,
        });
        return (exit, output.ToString(), error.ToString(), watch.Elapsed);
    }

    public void Dispose() => _dir.Dispose();
}

[Collection(PostgresCollection.Name)]
public sealed class BalancerProgramTests(PostgresFixture pg)
{
    private const string Nodes = "node1.example.com:8787,node2.example.com:8787,node3.example.com:8787";
    private static readonly TimeSpan Offline = ClusterStore.DefaultOfflineAfter;

    private (ClusterStore Store, InstalledBalancer Balancer) Cluster(string policy, int nodes = 3, string? statusUri = null)
    {
        var target = pg.NewTarget();
        var store = new ClusterStore(target);
        store.Initialize();
        store.WithNodes(nodes);
        return (store, new InstalledBalancer(target, policy, statusUri));
    }

    private static void Place(ClusterStore store, string user, string node) =>
        store.PlaceSession(new PlacementRequest(user, new CustomScriptPinned(node)));

    [Fact]
    public void PrintsOneEntryOfRstudioNodesExactlyAsGivenAndNothingElse()
    {
        var (store, b) = Cluster("method=sessions");
        using var _ = b;
        Place(store, "x", "node1.example.com:8787");
        Place(store, "y", "node2.example.com:8787");
        var (exit, output, error, _) = b.Run("alice", " node1.example.com:8787, node2.example.com:8787 ,node3.example.com:8787");
        Assert.Equal(0, exit);
        Assert.Equal("node3.example.com:8787\n", output);
        Assert.Contains("status page", error); // the status page is down here: said, and the store decided
    }

    [Fact]
    public void ADrainedNodeIsNeverChosenByAnyPolicy()
    {
        var (store, b) = Cluster("method=sessions");
        using var _ = b;
        store.SetDraining(2, true, Offline);
        foreach (var method in BalancingPolicies.ProgramMethods)
        {
            b.WritePolicy($"method={method}");
            for (var u = 0; u < 60; u++)
            {
                var (exit, output, _, _) = b.Run($"user{u}", Nodes);
                Assert.Equal(0, exit);
                Assert.NotEqual("node2.example.com:8787\n", output);
            }
        }
    }

    [Fact]
    public void AFullNodeIsSkippedAndAllFullFailsRatherThanOverload()
    {
        var (store, b) = Cluster("method=user-hash\nmax-sessions-per-node=1", nodes: 2);
        using var _ = b;
        Place(store, "x", "node1.example.com:8787");
        Assert.Equal("node2.example.com:8787\n", b.Run("anyone", "node1.example.com:8787,node2.example.com:8787").Out);
        Place(store, "y", "node2.example.com:8787");
        var (exit, output, error, _) = b.Run("anyone", "node1.example.com:8787,node2.example.com:8787");
        Assert.Equal(BalancerProgram.CannotChoose, exit);
        Assert.Equal("", output);
        Assert.Contains("MaxSessionsPerNode", error);
    }

    [Fact]
    public void LiveCountsComeFromTheStatusPageWhenItAnswers()
    {
        using var page = new StatusPageServer(
            "node1.example.com:8787 -  Load: 0.1, 0.2, 0.3\n   10 - a\n   11 - b\n" +
            "node2.example.com:8787 -  Load: 0.1, 0.2, 0.3\n" +
            "node3.example.com:8787 -  Load: 0.1, 0.2, 0.3\n   12 - c\n");
        var (store, b) = Cluster("method=sessions", statusUri: page.Uri);
        using var _ = b;
        Place(store, "x", "node2.example.com:8787"); // the store says node2 is busy; the page (Workbench's own view) says it is empty
        Place(store, "y", "node2.example.com:8787");
        var (exit, output, error, _) = b.Run("alice", Nodes);
        Assert.Equal((0, "node2.example.com:8787\n", ""), (exit, output, error));
        Assert.Equal(1, page.Requests);
    }

    [Fact]
    public void StickyKeepsAUserWithTheirSessionsWhileTheNodeIsEligible()
    {
        var (store, b) = Cluster("method=sessions\nsticky=1\nmax-sessions-per-node=3");
        using var _ = b;
        Place(store, "alice", "node1.example.com:8787");
        Place(store, "bob", "node1.example.com:8787");
        Assert.Equal("node1.example.com:8787\n", b.Run("alice", Nodes).Out); // busiest node, but alice is there
        Assert.Equal("node2.example.com:8787\n", b.Run("carol", Nodes).Out); // no sessions: sessions decides
        Place(store, "z", "node1.example.com:8787"); // node1 is now full
        Assert.Equal("node2.example.com:8787\n", b.Run("alice", Nodes).Out);
        store.SetDraining(1, false, Offline);
    }

    [Fact]
    public void AStatusPageThatHangsIsAbandonedAtTheDeadline()
    {
        using var page = new StatusPageServer { Hang = true };
        // A deadline that leaves the store read time on a loaded machine: a new connection made after the page is abandoned.
        var (store, b) = Cluster("method=sessions\ndeadline-ms=3000", statusUri: page.Uri);
        using var _ = b;
        Place(store, "x", "node1.example.com:8787");
        var (exit, output, error, elapsed) = b.Run("alice", Nodes);
        Assert.Equal(0, exit);
        Assert.Equal("node2.example.com:8787\n", output); // decided from the store
        Assert.Contains("did not answer within", error);
        // Slack for a loaded machine; without the deadline it would wait for HttpClient's 100 s.
        Assert.True(elapsed < TimeSpan.FromMilliseconds(3000 + 1000), $"answered after {elapsed.TotalMilliseconds:0} ms; the deadline is 3000 ms");
    }

    [Fact]
    public void WhenNothingAnswersInTimeItFallsBackToConsistentHashWithinTheDeadline()
    {
        using var page = new StatusPageServer { Hang = true };
        var (_, b) = Cluster("method=sessions\ndeadline-ms=300", statusUri: page.Uri);
        using var __ = b;
        using var never = new ManualResetEventSlim();
        var (exit, output, error, elapsed) = b.Run("alice", Nodes, readStore: _ => { never.Wait(TimeSpan.FromSeconds(5)); throw new TimeoutException(); });
        Assert.Equal(0, exit);
        var expected = new BalanceEngine().Decide(ConsistentHashPolicy.Instance, "alice",
            new CandidateSet(Nodes.Split(',').Select(NodeCandidate.Parse))).Node;
        Assert.Equal(expected + "\n", output);
        Assert.Contains("no live data", error);
        Assert.Contains("consistent-hash chose", error);
        // Slack for a loaded machine; without the deadline it would wait 5 s for the store.
        Assert.True(elapsed < TimeSpan.FromMilliseconds(300 + 1000), $"answered after {elapsed.TotalMilliseconds:0} ms; the deadline is 300 ms");
    }

    [Fact]
    public void WithPostgresStoppedTheLastKnownDrainHolds()
    {
        using var server = ThrowawayPostgres.Start();
        var target = DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = server.ConnectionString() });
        var store = new ClusterStore(target);
        store.Initialize();
        store.WithNodes(3);
        store.SetDraining(3, true, Offline);
        using var b = new InstalledBalancer(target, "method=consistent-hash");
        Assert.Equal(0, b.Run("warmup", Nodes).Exit); // the store answers: the program records node3 as drained
        Assert.Contains("node3.example.com:8787", File.ReadAllLines(Path.Combine(b.StateDirectory, DrainedRecord.FileName)));

        server.Kill();
        var users = Enumerable.Range(0, 100).Select(i => $"u{i}").ToList();
        var chosen = users.Select(u => b.Run(u, Nodes)).ToList();
        Assert.All(chosen, r => Assert.Equal(0, r.Exit));
        Assert.DoesNotContain(chosen, r => r.Out == "node3.example.com:8787\n");
        Assert.All(chosen, r => Assert.Contains("no live data", r.Error));
        // Consistent hashing over the two that may take sessions: both get users.
        Assert.Equal(2, chosen.Select(r => r.Out).Distinct().Count());
    }

    [Fact]
    public void BoundedHashNeverPutsANodeAboveItsCap()
    {
        var (store, b) = Cluster("method=bounded-hash\nbalance-factor=1.25", nodes: 4);
        using var _ = b;
        const string nodes = "node1.example.com:8787,node2.example.com:8787,node3.example.com:8787,node4.example.com:8787";
        for (var u = 0; u < 200; u++)
        {
            var (exit, output, _, _) = b.Run($"user{u}", nodes);
            Assert.Equal(0, exit);
            Place(store, $"user{u}", output.Trim());
            var counts = store.GetNodes(Offline).Select(n => n.ActiveSessions).ToList();
            var cap = Math.Ceiling(1.25 * (u + 1) / 4.0);
            Assert.True(counts.Max() <= cap, $"after {u + 1} sessions a node holds {counts.Max()}, above the cap {cap}");
        }
    }

    [Fact]
    public void MatchesEntriesGivenAsIpAddresses()
    {
        var (store, b) = Cluster("method=sessions");
        using var _ = b;
        store.SetDraining(1, true, Offline);
        Place(store, "x", "node2.example.com:8787");
        Assert.Equal("10.0.0.3:8787\n", b.Run("alice", "10.0.0.1:8787,10.0.0.2:8787,10.0.0.3:8787").Out);
    }

    [Theory]
    [InlineData("consistent-hash", 0.12, 0.28)] // a fifth node takes about 1/5 of the users: the minimum
    [InlineData("user-hash", 0.70, 0.90)]       // modulo hashing moves about (N-1)/N = 4/5 of them
    public void ANodeJoiningMovesAboutOneNthOfTheUsersWithConsistentHashAndMostWithUserHash(string method, double least, double most)
    {
        // The status page alone (no store configured): each of 1,000 users decided by the program with four nodes, then five.
        static string Page(int n) => string.Concat(Enumerable.Range(1, n).Select(i => $"node{i}.example.com:8787 -  Load: 0, 0, 0\n"));
        using var page = new StatusPageServer(Page(4));
        using var b = new InstalledBalancer(null, $"method={method}", page.Uri);
        var four = string.Join(',', Enumerable.Range(1, 4).Select(i => $"node{i}.example.com:8787"));
        var users = Enumerable.Range(0, 1000).Select(i => $"user{i:0000}").ToList();
        var before = users.Select(u => b.Run(u, four)).ToList();
        page.Text = Page(5);
        var after = users.Select(u => b.Run(u, four + ",node5.example.com:8787")).ToList();
        Assert.All(before.Concat(after), r => Assert.Equal(0, r.Exit));
        Assert.All(before.Concat(after), r => Assert.DoesNotContain("consistent-hash chose", r.Error)); // the method decided, not the fallback
        var moved = users.Where((_, i) => before[i].Out != after[i].Out).Count() / (double)users.Count;
        Assert.InRange(moved, least, most);
        if (method == "consistent-hash") Assert.All(after.Where((r, i) => r.Out != before[i].Out), r => Assert.Equal("node5.example.com:8787\n", r.Out));
    }

    [Theory]
    [InlineData(null, Nodes, "RSTUDIO_USERNAME")]
    [InlineData(" alice", Nodes, "RSTUDIO_USERNAME")]
    [InlineData("alice", "", "RSTUDIO_NODES is empty")]
    [InlineData("alice", "a:1,a:1", "twice")]
    [InlineData("alice", "a:1,not a node", "is not host:port")]
    public void ABadCallIsRefusedWithExit2AndAMessage(string? user, string nodes, string message)
    {
        using var b = new InstalledBalancer(null, "method=sessions");
        var (exit, output, error, _) = b.Run(user!, nodes);
        Assert.Equal((BalancerProgram.BadInvocation, ""), (exit, output));
        Assert.Contains(message, error);
    }

    [Fact]
    public void APolicyFileOthersCanWriteIsNotReadAndTheProgramRefusesRatherThanGuessTheCap()
    {
        // Issue 24: falling back without the file honoured neither the drain nor max-sessions-per-node.
        using var b = new InstalledBalancer(null, "method=sessions\nmax-sessions-per-node=1");
        File.SetUnixFileMode(Path.Combine(b.ConfigRoot, ModuleSettings.FileName), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite | UnixFileMode.OtherRead);
        var (exit, output, error, _) = b.Run("alice", Nodes);
        Assert.Equal((BalancerProgram.CannotChoose, ""), (exit, output));
        Assert.Contains("is not read", error);
        Assert.Contains("writable by others", error);
        Assert.Contains("refuses every session", error);
    }

    [Fact]
    public void APolicyWithAnInvalidValueIsRefusedButItsDrainAndCapHold()
    {
        var (store, b) = Cluster("method=sessions");
        using var _ = b;
        store.SetDraining(2, true, Offline);
        Place(store, "x", "node1.example.com:8787");
        b.WritePolicy("method=bounded-hash\nmax-sessions-per-node=1\ndeadline-ms=20");
        for (var u = 0; u < 16; u++)
        {
            var (exit, output, error, _) = b.Run($"user{u}", Nodes);
            Assert.Equal((0, "node3.example.com:8787\n"), (exit, output)); // node1 full, node2 drained
            Assert.Contains("the policy is refused", error);
            Assert.Contains("consistent-hash chose", error);
        }
    }

    [Fact]
    public void APolicyWhoseCapLineIsInvalidRefusesEverySession()
    {
        using var b = new InstalledBalancer(null, "method=sessions\nmax-sessions-per-node=0");
        var (exit, output, error, _) = b.Run("alice", Nodes);
        Assert.Equal((BalancerProgram.CannotChoose, ""), (exit, output));
        Assert.Contains("max-sessions-per-node", error);
        Assert.Contains("refuses every session", error);
    }

    [Fact]
    public void AnEntryThatIsNotUtf8IsComparedAndPrintedAsItsOwnBytes()
    {
        using var b = new InstalledBalancer(null, "method=sessions");
        var odd = RawText.Decode([.. "node"u8, 0xFF, .. ":8787"u8]);
        var (exit, output, _, _) = b.Run("alice", odd);
        Assert.Equal(0, exit);
        Assert.Equal([.. "node"u8, 0xFF, .. ":8787\n"u8], RawText.Encode(output));
    }

    [Fact]
    public void ThousandsOfUnknownEntriesMakeOneShortLine()
    {
        using var page = new StatusPageServer("node1.example.com:8787 -  Load: 0, 0, 0\n");
        using var b = new InstalledBalancer(null, "method=sessions", page.Uri);
        var nodes = string.Join(',', Enumerable.Range(0, 5000).Select(i => $"u{i}:1")) + ",node1.example.com:8787";
        var (exit, _, error, _) = b.Run("alice", nodes);
        Assert.Equal(0, exit);
        Assert.Contains("no data for 5000 entries of RSTUDIO_NODES (u0:1, u1:1", error);
        Assert.Contains("and 4990 more", error);
        Assert.All(error.Split('\n'), l => Assert.True(System.Text.Encoding.UTF8.GetByteCount(l) <= BalancerProgram.MaxLineBytes, $"{l.Length} characters"));
    }

    [Theory]
    [InlineData("a:1,b\u001b[31m:2")]
    [InlineData("a:1,b\u0000:2")]
    public void AnEntryWithAControlCharacterIsRefused(string nodes)
    {
        using var b = new InstalledBalancer(null, "method=sessions");
        var (exit, output, error, _) = b.Run("alice", nodes);
        Assert.Equal((BalancerProgram.BadInvocation, ""), (exit, output));
        Assert.Contains("is not host:port", error);
        Assert.DoesNotContain('\u001b', error);
    }

    [Fact]
    public void ABadPolicyFileNamesTheFileAndLineAndTheProgramStillAnswers()
    {
        using var b = new InstalledBalancer(null, "method=custom");
        var (exit, _, error, _) = b.Run("alice", Nodes);
        Assert.Equal(0, exit);
        Assert.Contains($"{ModuleSettings.FileName}:2:", error);
        Assert.Contains("custom would run this program itself", error);
    }
    private const string ThreeNodePage =
        "node1.example.com:8787 -  Load: 0, 0, 0\nnode2.example.com:8787 -  Load: 0, 0, 0\n   4711 - x\nnode3.example.com:8787 -  Load: 0, 0, 0\n";

    private static Func<ConfigRoot, StoreView> CountingStore(StrongBox<int> asked) => _ =>
    {
        Interlocked.Increment(ref asked.Value);
        throw new IOException("the store was asked");
    };

    [Fact]
    public void WhileTheKeptViewIsFreshAndThePageCountsEveryNodeTheStoreIsNotAsked()
    {
        using var page = new StatusPageServer(ThreeNodePage);
        var (store, b) = Cluster("method=sessions\nstore-max-age-ms=60000", statusUri: page.Uri);
        using var _ = b;
        store.SetDraining(3, true, Offline);
        Assert.Equal("node1.example.com:8787\n", b.Run("first", Nodes).Out); // the store read, its view kept
        Assert.True(File.Exists(StoreSnapshot.PathIn(b.StateDirectory)));
        var asked = new StrongBox<int>();
        var next = Enumerable.Range(0, 20).Select(i => b.Run($"u{i}", Nodes, CountingStore(asked))).ToList();
        Assert.Equal(0, asked.Value);
        // Counts from the page (node2 holds a session), the drain from the kept view: node1, said nothing of.
        Assert.All(next, r => Assert.Equal((0, "node1.example.com:8787\n", ""), (r.Exit, r.Out, r.Error)));
    }

    [Fact]
    public void AfterTheMaxAgeTheStoreIsReadAgain()
    {
        using var page = new StatusPageServer(ThreeNodePage);
        var (_, b) = Cluster("method=sessions\nstore-max-age-ms=1000", statusUri: page.Uri);
        using var __ = b;
        var clock = new ManualClock();
        Assert.Equal(0, b.Run("first", Nodes, time: clock).Exit);
        var asked = new StrongBox<int>();
        clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Equal(0, b.Run("fresh", Nodes, CountingStore(asked), clock).Exit);
        Assert.Equal(0, asked.Value);
        clock.Advance(TimeSpan.FromMilliseconds(200));
        var stale = b.Run("stale", Nodes, CountingStore(asked), clock);
        Assert.Equal(1, asked.Value);
        Assert.Contains("the store was asked", stale.Error);
    }

    [Fact]
    public void WhenThePageDoesNotCountEveryNodeTheStoreIsReadForEachDecision()
    {
        // A cap is judged on live counts only: a node the page leaves out would be counted from a view up to a second old.
        using var page = new StatusPageServer("node1.example.com:8787 -  Load: 0, 0, 0\nnode2.example.com:8787 -  Load: 0, 0, 0\n");
        var (_, b) = Cluster("method=sessions\nstore-max-age-ms=60000", statusUri: page.Uri);
        using var __ = b;
        Assert.Equal(0, b.Run("first", Nodes).Exit);
        var asked = new StrongBox<int>();
        for (var i = 0; i < 3; i++) b.Run($"u{i}", Nodes, CountingStore(asked));
        Assert.Equal(3, asked.Value);
    }

    [Fact]
    public void WithStoreMaxAgeZeroNothingIsKept()
    {
        using var page = new StatusPageServer(ThreeNodePage);
        var (_, b) = Cluster("method=sessions\nstore-max-age-ms=0", statusUri: page.Uri);
        using var __ = b;
        Assert.Equal(0, b.Run("first", Nodes).Exit);
        Assert.False(File.Exists(StoreSnapshot.PathIn(b.StateDirectory)));
        var asked = new StrongBox<int>();
        b.Run("second", Nodes, CountingStore(asked));
        Assert.Equal(1, asked.Value);
    }
}

/// <summary>Candidates built from RSTUDIO_NODES and what each source said.</summary>
public sealed class LiveCandidatesTests
{
    private static NodeInfo Node(int id, bool draining = false, int sessions = 0, int? cores = 4) => new()
    {
        Id = id, Host = $"n{id}", Port = 8787, IPv4Address = $"10.1.0.{id}", Status = NodeStatus.Online,
        DrainingSince = draining ? DateTimeOffset.UnixEpoch : null, ActiveSessions = sessions, Cores = cores, Load5 = id,
    };

    [Fact]
    public void EveryEntryIsACandidateAndNothingElseIs()
    {
        var set = LiveCandidates.Build(["n1:8787", "n9:8787"], new ClusterData { StoreNodes = [Node(1), Node(2)] });
        Assert.Equal(["n1:8787", "n9:8787"], set.Entries);
        Assert.Equal(2, set.Set.Count);
        Assert.Contains(set.Notes, n => n.Contains("no data for n9:8787"));
    }

    [Fact]
    public void DrainAndCoresComeFromTheStoreAndCountsFromThePage()
    {
        var set = LiveCandidates.Build(["n1:8787", "n2:8787"], new ClusterData
        {
            StoreNodes = [Node(1, draining: true, sessions: 9), Node(2, sessions: 9)],
            Status = [new NodeSessionLoad { Address = "n1:8787", SessionCount = 1 }, new NodeSessionLoad { Address = "n2:8787", SessionCount = 2, Load5 = 7 }],
        });
        Assert.Equal((true, 1, 4), (set.Set[0].Draining, set.Set[0].ActiveSessions, set.Set[0].Cores!.Value));
        Assert.Equal((false, 2, 7.0), (set.Set[1].Draining, set.Set[1].ActiveSessions, set.Set[1].Load5));
    }

    [Fact]
    public void WithoutTheStoreTheRecordedDrainHolds()
    {
        var set = LiveCandidates.Build(["10.1.0.1:8787", "10.1.0.2:8787"], new ClusterData { LastKnownDrained = new HashSet<string> { "10.1.0.2:8787" } });
        Assert.Equal((false, true), (set.Set[0].Draining, set.Set[1].Draining));
    }

}

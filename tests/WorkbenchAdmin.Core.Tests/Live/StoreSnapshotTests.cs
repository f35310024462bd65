using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Live;

/// <summary>Issue 23: the store's view kept between the balancer program's calls: read back as written, only while fresh, only when trusted.</summary>
public sealed class StoreSnapshotTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private const string Root = "/etc/rstudio";

    public void Dispose() => _dir.Dispose();

    private string State => _dir.File("state");

    internal static StoreView View() => new(
        [
            new NodeInfo
            {
                Id = 1, Host = "node1.example.com", IPv4Address = "10.0.0.1", Port = 8787, Status = NodeStatus.Online,
                LastSeen = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), RegisteredAt = DateTimeOffset.FromUnixTimeMilliseconds(1_600_000_000_000),
                Load1 = 0.25, Load5 = 1.5, Load15 = 3, Cores = 16, ActiveSessions = 2, Protocol = "http", Version = "2024.12.1",
                NodeClock = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_456),
            },
            new NodeInfo
            {
                Id = 2, Host = "node2.example.com", Port = 8788, Status = NodeStatus.Offline,
                DrainingSince = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000),
            },
        ],
        [
            new NodeSessionLoad
            {
                NodeId = 1, Address = "node1.example.com:8787", Load1 = 0.25, Load5 = 1.5, Load15 = 3, Status = NodeStatus.Online, SessionCount = 2,
                Sessions = [new SessionEntry(1234, "alice"), new SessionEntry(99, "b\u00f6b \"quoted\"\ttab")],
            },
            new NodeSessionLoad { NodeId = 2, Address = "node2.example.com:8788" },
        ]);

    [Fact]
    public void AViewIsReadBackAsItWasWritten()
    {
        var snapshot = new StoreSnapshot(TimeProvider.System);
        var view = View();
        Assert.Null(snapshot.Keep(State, Root, MaxAge, view));
        var read = snapshot.ReadFresh(State, Root, MaxAge, out var problem);
        Assert.Null(problem);
        Assert.NotNull(read);
        Assert.Equal(view.Nodes, read.Nodes);
        Assert.Equal(view.Loads.Count, read.Loads.Count);
        for (var i = 0; i < view.Loads.Count; i++)
        {
            Assert.Equal(view.Loads[i] with { Sessions = [] }, read.Loads[i] with { Sessions = [] });
            Assert.Equal(view.Loads[i].Sessions, read.Loads[i].Sessions);
        }
    }

    [Fact]
    public void OnlyRootOrWeCanReadTheKeptView()
    {
        new StoreSnapshot(TimeProvider.System).Keep(State, Root, MaxAge, View());
        var file = StoreSnapshot.PathIn(State);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file)); // it holds user names
    }

    [Fact]
    public void AViewOlderThanTheMaxAgeOrFromTheFutureOrAnotherRootIsNotUsed()
    {
        var clock = new ManualClock();
        new StoreSnapshot(clock).Keep(State, Root, MaxAge, View());
        var reader = new StoreSnapshot(clock);
        clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.NotNull(reader.ReadFresh(State, Root, MaxAge, out _));
        Assert.Null(reader.ReadFresh(State, "/etc/other", MaxAge, out var other));
        Assert.Null(other);
        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Null(reader.ReadFresh(State, Root, MaxAge, out var stale));
        Assert.Null(stale); // too old is the normal case: nothing to say
        clock.Advance(TimeSpan.FromSeconds(-10));
        Assert.Null(reader.ReadFresh(State, Root, MaxAge, out _)); // written "later" than now: a clock set back
    }

    [Fact]
    public void MaxAgeZeroKeepsAndReadsNothing()
    {
        var snapshot = new StoreSnapshot(TimeProvider.System);
        Assert.Null(snapshot.Keep(State, Root, TimeSpan.Zero, View()));
        Assert.False(File.Exists(StoreSnapshot.PathIn(State)));
        new StoreSnapshot(TimeProvider.System).Keep(State, Root, MaxAge, View());
        Assert.Null(snapshot.ReadFresh(State, Root, TimeSpan.Zero, out _));
    }

    [Fact]
    public void OneKeeperWritesAtMostEveryHalfMaxAge()
    {
        var clock = new ManualClock();
        var keeper = new StoreSnapshot(clock);
        keeper.Keep(State, Root, MaxAge, View());
        var file = StoreSnapshot.PathIn(State);
        File.Delete(file);
        clock.Advance(TimeSpan.FromMilliseconds(400));
        keeper.Keep(State, Root, MaxAge, View());
        Assert.False(File.Exists(file)); // written 400 ms ago: not again
        clock.Advance(TimeSpan.FromMilliseconds(200));
        keeper.Keep(State, Root, MaxAge, View());
        Assert.True(File.Exists(file));
    }

    [Fact]
    public void AViewOthersCouldHaveWrittenIsNotReadAndSaysWhy()
    {
        new StoreSnapshot(TimeProvider.System).Keep(State, Root, MaxAge, View());
        var file = StoreSnapshot.PathIn(State);
        File.SetUnixFileMode(file, (UnixFileMode)0b110_110_110);
        Assert.Null(new StoreSnapshot(TimeProvider.System).ReadFresh(State, Root, MaxAge, out var problem));
        Assert.Contains(file, problem);
        Assert.Contains("is not read", problem);
    }

    [Theory]
    [InlineData("")]                                  // a crash between write and rename left it empty
    [InlineData("{\"version\":1}")]                   // not ours
    [InlineData("not json at all")]
    [InlineData("{\"version\":1,\"configRoot\":\"/etc/rstudio\",\"written\":\"soon\",\"nodes\":[],\"loads\":[]}")]
    public void AViewThatIsNotOneWeWroteIsNotUsedAndSaysWhy(string content)
    {
        Directory.CreateDirectory(State);
        File.WriteAllText(StoreSnapshot.PathIn(State), content);
        Assert.Null(new StoreSnapshot(TimeProvider.System).ReadFresh(State, Root, MaxAge, out var problem));
        Assert.Contains("is not one this program wrote", problem);
    }

    [Fact]
    public void NoViewYetIsNotAProblem()
    {
        Assert.Null(new StoreSnapshot(TimeProvider.System).ReadFresh(State, Root, MaxAge, out var problem));
        Assert.Null(problem);
    }

    [Fact]
    public void AStateDirectoryThatCannotBeWrittenIsSaid()
    {
        File.WriteAllText(_dir.File("file"), "");
        var problem = new StoreSnapshot(TimeProvider.System).Keep(_dir.File("file/state"), Root, MaxAge, View());
        Assert.NotNull(problem);
        Assert.Contains("cannot keep the store's view", problem);
    }
}

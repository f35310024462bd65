using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;
using static WorkbenchAdmin.Core.Commands.Cluster.ClusterOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.HeartbeatOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.NodeOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.SessionOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.PasswordOperations;

namespace WorkbenchAdmin.Core.Tests.Store;

/// <summary>
/// Update-WbNodeStatus -EverySec: the heartbeat as a long-lived process. Its own server, since it is killed under
/// the running heartbeat.
/// </summary>
public sealed class HeartbeatLoopTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly System.Net.Sockets.TcpListener _rserver = Loopback.Listen();

    public void Dispose()
    {
        _rserver.Stop();
        _dir.Dispose();
    }

    private string NodeRoot(ThrowawayPostgres server)
    {
        var root = _dir.Path;
        File.WriteAllText(Path.Combine(root, "rserver.conf"), $"load-balancing-enabled=1\nwww-port={Loopback.PortOf(_rserver)}\n");
        File.WriteAllText(Path.Combine(root, "load-balancer"), "www-host-name=node1.test:8787\nbalancer=sessions\n");
        // Short timeouts: a beat against a stopped server fails in a second rather than the default 15.
        File.WriteAllText(Path.Combine(root, "database.conf"),
            $"provider=postgresql\nhost=127.0.0.1\nport={server.Port}\ndatabase=postgres\nusername=postgres\npassword={server.Password}\nconnection-timeout-seconds=2\n");
        File.WriteAllText(Path.Combine(root, "secure-cookie-key"), "the-cluster-key\n");
        return root;
    }

    private static DateTimeOffset LastSeen(string root) =>
        ClusterOperations.Open(new StoreRequest { ConfigRoot = root }, new RecordingHost()).GetNodes(ClusterStore.DefaultOfflineAfter).Single().LastSeen;

    /// <summary>Waits (bounded) until the node's heartbeat is newer than <paramref name="after"/>; the time it saw.</summary>
    private static DateTimeOffset BeatAfter(string root, DateTimeOffset after)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var seen = LastSeen(root);
                if (seen > after) return seen;
            }
            catch (WbException) { } // the server is still starting
            Thread.Sleep(50);
        }
        throw new TimeoutException($"no heartbeat after {after:O}");
    }

    [Fact]
    public void BeatsUntilStoppedCarryingOnThroughADatabaseRestart()
    {
        using var server = ThrowawayPostgres.Start();
        var root = NodeRoot(server);
        Initialize(new StoreRequest { ConfigRoot = root }, new RecordingHost());
        var registered = new RecordingHost();
        RegisterNode(new NodeRequest { ConfigRoot = root }, registered);
        var first = Assert.Single(registered.ObjectsOf<NodeInfo>()).LastSeen;

        using var stop = new CancellationTokenSource();
        var host = new RecordingHost(cancellation: stop.Token);
        var heartbeat = Task.Run(() => UpdateNodeStatus(new NodeRequest { ConfigRoot = root, EverySec = 0.1 }, host));

        // It beats on its own, again and again.
        BeatAfter(root, BeatAfter(root, first));
        Assert.False(heartbeat.IsCompleted);

        // The database goes away and comes back: the beats in between fail, the process does not. It stays away
        // until a beat has failed: on a loaded machine a fixed outage can fall between two slow beats.
        server.Kill();
        bool Failed() { lock (host.Warnings) return host.Warnings.Any(w => w.StartsWith("Heartbeat 1 in a row failed", StringComparison.Ordinal)); }
        Assert.True(SpinWait.SpinUntil(Failed, TimeSpan.FromSeconds(30)), "no beat failed while the database was down");
        Thread.Sleep(300);
        Assert.False(heartbeat.IsCompleted, heartbeat.Exception?.ToString());
        server.StartServer();
        var back = BeatAfter(root, DateTimeOffset.UtcNow);
        BeatAfter(root, back);

        stop.Cancel();
        Assert.True(SpinWait.SpinUntil(() => heartbeat.IsCompleted, TimeSpan.FromSeconds(10)), "a stop ends the heartbeat");
        Assert.True(heartbeat.IsCanceled || heartbeat.Exception?.InnerException is OperationCanceledException, heartbeat.Exception?.ToString());
        Assert.Contains(host.Warnings, w => w.StartsWith("Heartbeat 1 in a row failed (Database", StringComparison.Ordinal) && w.Contains($"127.0.0.1:{server.Port}"));
        Assert.Contains(host.Warnings, w => w.StartsWith("The heartbeat is reported again after", StringComparison.Ordinal));
        Assert.Equal(["Report heartbeat every 0.1 s until stopped"], host.ShouldProcessCalls.Select(c => c.Action));
    }

    [Fact]
    public void WhatIfSaysWhatTheLoopWouldDoAndBeatsNever()
    {
        using var server = ThrowawayPostgres.Start();
        var root = NodeRoot(server);
        Initialize(new StoreRequest { ConfigRoot = root }, new RecordingHost());
        RegisterNode(new NodeRequest { ConfigRoot = root }, new RecordingHost());
        var before = LastSeen(root);
        var host = new RecordingHost(confirm: false);
        UpdateNodeStatus(new NodeRequest { ConfigRoot = root, EverySec = 0.1 }, host); // returns: it would loop forever otherwise
        Assert.Equal(("node1.test:8787", "Report heartbeat every 0.1 s until stopped"), Assert.Single(host.ShouldProcessCalls));
        Assert.Equal(before, LastSeen(root));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0.05)]
    [InlineData(-5)]
    [InlineData(double.NaN)]
    [InlineData(86_401)]
    public void AnIntervalOutOfRangeIsRefusedNamingIt(double every)
    {
        var e = Assert.Throws<WbException>(() => UpdateNodeStatus(new NodeRequest { ConfigRoot = _dir.Path, EverySec = every }, new RecordingHost()));
        Assert.Equal("InvalidHeartbeatInterval", e.ErrorId);
        Assert.Equal(WbErrorCategory.InvalidArgument, e.Category);
        Assert.Contains("-EverySec", e.Message);
    }
}

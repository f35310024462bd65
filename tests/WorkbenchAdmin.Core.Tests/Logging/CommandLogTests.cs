using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Balancing.Custom;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Logging;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Logging;

/// <summary>What -Verbose and -Debug show: files touched, script runs, queries and timings, from the core's own logging.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CommandLogTests(PostgresFixture pg) : IDisposable
{
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void FileReadsAndWritesReachTheAttachedCommand()
    {
        _dir.Write("rserver.conf", "a=1\n");
        var host = new RecordingHost();
        using (CommandLog.Attach(host))
            new ConfigEditor(new ConfigRoot(_dir.Path)).Edit("rserver.conf", [new ConfigChange(null, "a", "2")], (_, _) => true);
        Assert.Contains(host.Debug, d => d.StartsWith("ConfigRoot: read ") && d.Contains("rserver.conf"));
        Assert.Contains(host.Verbose, v => v.StartsWith("ConfigEditor: ") && v.Contains("Set a = 2"));
    }

    [Fact]
    public void ScriptRunsAreLoggedWithTheirTiming()
    {
        var script = Scripts.Write(_dir, "b.sh", "#!/bin/sh\necho \"${RSTUDIO_NODES%%,*}\"\n");
        var host = new RecordingHost();
        using (CommandLog.Attach(host))
            new BalanceEngine().Decide(new CustomScriptPolicy(new BalancerScriptOptions(script)), "alice", new CandidateSet([NodeCandidate.Parse("n1:1")]));
        var line = Assert.Single(host.Verbose);
        Assert.Contains($"ran {script} for alice with RSTUDIO_NODES=n1:1: Exited, exit 0", line);
        Assert.Matches(@"\d+\.\d ms$", line);
    }

    [Fact]
    public void QueriesShowInVerboseAndTheirSqlInDebug()
    {
        var store = pg.NewStore();
        var host = new RecordingHost();
        using (CommandLog.Attach(host)) store.GetNodes(ClusterStore.DefaultOfflineAfter);
        Assert.Contains(host.Verbose, v => v.StartsWith("ClusterStore: GetNodes on 127.0.0.1:") && v.EndsWith(" ms"));
        Assert.Contains(host.Debug, d => d.Contains("FROM wbadmin.node"));
    }

    [Fact]
    public void NothingIsWrittenWhenNoCommandIsAttachedOrFromAnotherThread()
    {
        _dir.Write("rserver.conf", "a=1\n");
        var host = new RecordingHost();
        new ConfigRoot(_dir.Path).TryLoad("rserver.conf"); // nothing attached: no host to write to, no failure
        using (CommandLog.Attach(host))
        {
            var other = new Thread(() => new ConfigRoot(_dir.Path).TryLoad("rserver.conf"));
            other.Start();
            other.Join();
        }
        Assert.Empty(host.Debug);
        Assert.Empty(host.Verbose);
    }
}

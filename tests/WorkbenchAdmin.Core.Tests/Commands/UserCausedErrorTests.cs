using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Commands;

/// <summary>Failures a user can cause through the store and status-page operations: each an error with a stable id and category, never a raw exception.</summary>
[Collection(PostgresCollection.Name)]
public sealed class UserCausedErrorTests(PostgresFixture pg) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("Port=5432")] // no host
    [InlineData("Username=postgres;Database=rstudio")]
    public void AConnectionStringNpgsqlCannotUseIsInvalidConnectionString(string connectionString)
    {
        var e = Assert.Throws<WbException>(() => ClusterOperations.Open(new StoreRequest { ConnectionString = connectionString }, new RecordingHost()));
        Assert.Equal(("InvalidConnectionString", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.Contains("Host", e.Message);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://node1/load-balancer/status")]
    [InlineData("load-balancer/status")]
    public void AStatusPageUriThatIsNotHttpIsInvalidArgument(string uri)
    {
        var request = new SessionLoadRequest { Uri = new Uri(uri, UriKind.RelativeOrAbsolute) };
        var e = Assert.Throws<WbException>(() => SessionOperations.GetSessionLoad(request, new RecordingHost()));
        Assert.Equal(("InvalidStatusPageUri", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.Contains(uri, e.Message);
        Assert.Contains("http://", e.Message);
    }

    [Fact]
    public void AConfigurationFileTheHeartbeatCannotReadFailsItWithTheFileNamed()
    {
        var store = pg.NewStore();
        var root = Directory.CreateDirectory(_dir.File("node")).FullName;
        File.WriteAllText(Path.Combine(root, "rserver.conf"), "load-balancing-enabled=1\n");
        File.WriteAllText(Path.Combine(root, "load-balancer"), "www-host-name=127.0.0.1:18787\n");
        File.WriteAllText(Path.Combine(root, "secure-cookie-key"), "key\n");
        // A launcher.conf left pointing at a file that is gone.
        File.CreateSymbolicLink(Path.Combine(root, "launcher.conf"), _dir.File("gone.conf"));
        var request = new NodeRequest
        {
            ConfigRoot = root, ConnectionString = pg.Server.ConnectionString(store.Target.Database),
            Report = new NodeReport { Load1 = 0.1, Load5 = 0.1, Load15 = 0.1, Cores = 2 },
        };
        var e = Assert.Throws<WbException>(() => HeartbeatOperations.RegisterNode(request, new RecordingHost()));
        Assert.Equal(("FingerprintFailed", WbErrorCategory.ReadError), (e.ErrorId, e.Category));
        Assert.Contains("launcher.conf", e.Message);
    }

    [Fact]
    public void ALoadAverageThatIsNotNumbersIsAnError()
    {
        var loadavg = _dir.Write("loadavg", "not a load average\n");
        var e = Assert.Throws<WbException>(() => NodeReport.FromMachine(loadAveragePath: loadavg));
        Assert.Equal(("LoadAverageUnreadable", WbErrorCategory.ReadError), (e.ErrorId, e.Category));
        Assert.Contains(loadavg, e.Message);
    }
}

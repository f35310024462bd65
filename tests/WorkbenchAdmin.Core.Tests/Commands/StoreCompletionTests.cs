using System.Diagnostics;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Tests.Store;

namespace WorkbenchAdmin.Core.Tests.Commands;

[Collection(PostgresCollection.Name)]
public class StoreCompletionTests(PostgresFixture pg)
{
    private (ClusterStore Store, StoreRequest Request) Cluster()
    {
        var store = pg.NewStore().WithNodes(12);
        return (store, new StoreRequest { ConnectionString = pg.Server.ConnectionString(store.Target.Database) });
    }

    [Fact]
    public void NodeIdsAndAddressesCompleteWithTooltips()
    {
        var (_, request) = Cluster();
        Assert.Equal(["1", "10", "11", "12"], StoreCompletion.NodeIds(request, "1").Select(c => c.Text));
        Assert.Equal("node2.example.com:8787 (Online)", StoreCompletion.NodeIds(request, "2").Single().Tooltip);
        Assert.Equal(["node1.example.com:8787", "node10.example.com:8787", "node11.example.com:8787", "node12.example.com:8787"],
                     StoreCompletion.NodeAddresses(request, "NODE1").Select(c => c.Text));
    }

    [Fact]
    public void ActiveUsersCompleteMostSessionsFirstAndLikeCharactersAreLiteral()
    {
        var (store, request) = Cluster();
        foreach (var user in new[] { "alice", "alice", "albert", "al_x", "bob" })
            store.PlaceSession(new PlacementRequest(user, SessionsPolicy.Instance));
        Assert.Equal(["alice", "al_x", "albert"], StoreCompletion.ActiveUsers(request, "al").Select(c => c.Text));
        Assert.Equal("2 active sessions", StoreCompletion.ActiveUsers(request, "ali").Single().Tooltip);
        Assert.Equal(["al_x"], StoreCompletion.ActiveUsers(request, "al_").Select(c => c.Text));
        Assert.Empty(StoreCompletion.ActiveUsers(request, "%"));
    }

    [Fact]
    public void AnUnreachableStoreCompletesNothingAndQuickly()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var watch = Stopwatch.StartNew();
        Assert.Empty(StoreCompletion.NodeIds(new StoreRequest { ConnectionString = $"Host=127.0.0.1;Port={port};Database=x;Username=u;Password=p;Timeout=30" }, ""));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Empty(StoreCompletion.ActiveUsers(new StoreRequest { ConfigRoot = "/nonexistent/wbadmin" }, "a"));
    }
}

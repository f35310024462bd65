using WorkbenchAdmin.Core.Proxies;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Verification;

/// <summary>Every check of the catalog has one implementation that runs; an id without one is refused, never run as another check.</summary>
public sealed class CheckRegistryTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> CatalogIds() => new(CheckCatalog.All.Select(c => c.Id));

    [Fact]
    public void EveryCatalogCheckHasExactlyOneImplementation()
    {
        var registered = CheckRegistry.Registered.Select(c => c.Definition.Id).ToList();
        Assert.Equal(CheckCatalog.All.Select(c => c.Id).Order(), registered.Order());
        Assert.All(CheckCatalog.All, d => Assert.Equal(d, CheckRegistry.Of(d).Definition));
        // The load balancer's checks are implemented in Proxies, each with a file judge and a live probe.
        Assert.Equal(CheckCatalog.All.Where(c => c.Scope == CheckScope.LoadBalancer).Select(c => c.Id).Order(), LoadBalancerCheckSet.Ids.Order());
    }

    [Theory]
    [MemberData(nameof(CatalogIds))]
    public void EveryCatalogCheckRunsAndAnswers(string id)
    {
        var root = Directory.CreateDirectory(Path.Combine(_dir.Path, "etc-rstudio")).FullName;
        File.WriteAllText(Path.Combine(root, "rserver.conf"), "load-balancing-enabled=1\n");
        File.WriteAllText(Path.Combine(root, "load-balancer"), "balancer=sessions\nwww-host-name=node1.example.com:8787\n");
        var spec = _dir.Write("cluster.yaml", "nodes:\n  - node1.example.com:8787\nbalancer: sessions\nprotocol: http\nsharedStoragePath: /nfs/shared\n");
        var nginx = _dir.Write("nginx.conf", """
            events { }
            http {
                upstream workbench { server node1.example.com:8787; }
                server { listen 80; location / { proxy_pass http://workbench; } }
            }
            """);
        var machine = new TestMachine { Name = "node1" };
        machine.Hosts["node1.example.com"] = ["10.0.0.1"];

        // No database.conf: the store cannot be read, so every check that needs it says it could not be checked.
        var results = ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = root, Check = [id], SpecPath = spec, LoadBalancer = nginx, Machine = machine }, new RecordingHost());

        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.Equal(id, r.CheckId));
        Assert.All(results, r => Assert.False(string.IsNullOrWhiteSpace(r.Found), $"{id} answered {r.Status} without saying what it found"));
    }

    [Fact]
    public void AnIdWithoutAnImplementationIsRefusedNotDefaulted()
    {
        var unknown = new CheckDefinition("loadbalancer.unknown", "loadbalancer", CheckScope.LoadBalancer, "Not a check");
        Assert.Throws<ArgumentException>(() => CheckRegistry.Of(unknown));
        // A look-alike of a catalog check (same id, another scope or title) is not that check either.
        var forwarded = CheckCatalog.Get("loadbalancer.forwarded-headers");
        Assert.Throws<ArgumentException>(() => CheckRegistry.Of(forwarded with { Title = "Something else" }));

        // The proxies' file judges and live probes refuse it too, before judging or probing anything.
        var nginx = _dir.Write("nginx.conf", "events { }\nhttp { upstream wb { server 10.0.0.1:8787; } server { listen 80; location / { proxy_pass http://wb; } } }\n");
        var nodes = ClusterNodes.Of(["10.0.0.1:8787"]);
        var file = Assert.Throws<ArgumentException>(() => LoadBalancerChecks.FromFile([forwarded, unknown], ProxyConfig.Load(nginx, ProxyKind.Nginx), nodes, new TestMachine()).ToList());
        Assert.Contains("loadbalancer.unknown", file.Message);
        var live = Assert.Throws<ArgumentException>(() =>
            LoadBalancerProbe.Run([unknown], new Uri($"http://127.0.0.1:{Loopback.FreePort()}/"), nodes, new TestMachine(), new ProbeOptions()).ToList());
        Assert.Contains("loadbalancer.unknown", live.Message);

        // Through the cmdlets' path, an id that matches no check is the caller's mistake, said as such.
        var e = Assert.Throws<WbException>(() => CheckRunner.Select(CheckCatalog.All, ["loadbalancer.unknown"]));
        Assert.Equal("UnknownCheck", e.ErrorId);
    }
}

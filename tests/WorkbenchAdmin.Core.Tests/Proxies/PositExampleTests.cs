using System.Net;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Commands.Proxies;
using WorkbenchAdmin.Core.Proxies;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Proxies;

/// <summary>
/// The proxy configurations of Posit's admin guide, in our own fixtures of their shapes (tests/fixtures/proxy), from
/// the file and live through the real nginx, Apache and HAProxy in front of stand-in nodes.
/// </summary>
public sealed class PositExampleTests : IDisposable
{
    private readonly NodeBackend _node1 = new();
    private readonly NodeBackend _node2 = new();
    private readonly NodeBackend _node3 = new();
    private readonly TempDirectory _dir = new();
    private readonly int _port = Loopback.FreePort();

    public void Dispose()
    {
        _node1.Dispose();
        _node2.Dispose();
        _node3.Dispose();
        _dir.Dispose();
    }

    private static readonly string[] FixtureNodes = ["wb1.lab.internal:8787", "wb2.lab.internal:8787", "wb3.lab.internal:8787"];
    private static List<CheckDefinition> All => CheckCatalog.All.Where(c => c.Scope == CheckScope.LoadBalancer).ToList();
    private static string FixturePath(string name) => Path.Combine(RepoPaths.Root, "tests", "fixtures", "proxy", name);
    private static ClusterNodes Named(int count) => ClusterNodes.Of(FixtureNodes.Take(count));
    private ClusterNodes Live(int count) => ClusterNodes.Of(new[] { _node1, _node2, _node3 }.Take(count).Select(n => n.Address));

    private static List<CheckResult> FromFile(string path, ClusterNodes nodes) =>
        LoadBalancerChecks.FromFile(All, ProxyConfig.Load(path), nodes, Machine.Local).ToList();

    /// <summary>The fixture as it runs here: the stand-in nodes for ours, and the test's loopback port.</summary>
    private string Localized(string name)
    {
        var text = File.ReadAllText(FixturePath(name));
        var nodes = new[] { _node1, _node2, _node3 };
        for (var i = 0; i < nodes.Length; i++) text = text.Replace(FixtureNodes[i], nodes[i].Address, StringComparison.Ordinal);
        return text.Replace("listen 80;", $"listen 127.0.0.1:{_port};", StringComparison.Ordinal)
            .Replace("<VirtualHost *:80>", $"<VirtualHost *:{_port}>", StringComparison.Ordinal)
            .Replace("bind :80", $"bind 127.0.0.1:{_port}", StringComparison.Ordinal);
    }

    private static ProbeOptions Options => new()
    {
        Hold = TimeSpan.FromSeconds(2),
        ClientAddresses = Enumerable.Range(1, 8).Select(i => IPAddress.Parse($"127.0.{i}.1")).ToList(),
    };

    /// <summary>Runs the fixture in its real proxy; the file checks and the live ones, as Test-WbLoadBalancer -Path -Uri does.</summary>
    private (List<CheckResult> File, List<CheckResult> Live) Run(string name, ProxyKind kind, int nodes, bool withFile = true)
    {
        var text = Localized(name);
        var checkedCopy = _dir.Write($"checked-{name}", text);
        using var proxy = ProxyProcess.Start(kind, text, _port, _dir);
        var results = LoadBalancerVerifier.Run(All, withFile ? checkedCopy : null, kind.ToString(), proxy.Uri.ToString(), Live(nodes), Machine.Local, Options).ToList();
        var fileCount = withFile ? All.Count : 0;
        return (results.Take(fileCount).ToList(), results.Skip(fileCount).ToList());
    }

    private IEnumerable<string> Received => new[] { _node1, _node2, _node3 }.SelectMany(n => { lock (n.Requests) return n.Requests.ToList(); });

    public static TheoryData<string, ProxyKind, int> Examples => new()
    {
        { "posit-nginx.conf", ProxyKind.Nginx, 1 },
        { "posit-nginx-balanced.conf", ProxyKind.Nginx, 2 },
        { "posit-apache.conf", ProxyKind.Apache, 1 },
        { "posit-apache-balanced.conf", ProxyKind.Apache, 2 },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void PositsExamplesPassEveryCheckFromTheFile(string name, ProxyKind kind, int nodes)
    {
        var config = ProxyConfig.Load(FixturePath(name));
        Assert.Equal(kind, config.Kind);
        var results = FromFile(FixturePath(name), Named(nodes));
        Assert.Equal(All.Select(c => c.Id), results.Select(r => r.CheckId));
        Assert.All(results, r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));
        Assert.Contains("X-RStudio-Request", results.Single(r => r.CheckId == "loadbalancer.forwarded-headers").Found);
    }

    [ProxyTheory]
    [MemberData(nameof(Examples))]
    public void PositsExamplesPassEveryCheckLiveAndWorkbenchGetsTheClientsUrl(string name, ProxyKind kind, int nodes)
    {
        var (file, live) = Run(name, kind, nodes);
        Assert.All(file, r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));
        Assert.All(live.Where(r => r.CheckId != "loadbalancer.forwarded-headers"), r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));
        // What the file check reads in X-RStudio-Request is what the proxy sends: the URL the client asked for.
        Assert.Contains(Received, h => h.Contains($"X-RStudio-Request: http://127.0.0.1:{_port}/", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void TheApacheExampleAsPrintedNeverSetsItsVariablesAndSaysWhy()
    {
        var path = FixturePath("posit-apache-as-printed.conf");
        var results = FromFile(path, Named(1));
        var forwarded = results.Single(r => r.CheckId == "loadbalancer.forwarded-headers");
        Assert.Equal(CheckStatus.Fail, forwarded.Status);
        Assert.Contains("(null)://(null)(null)", forwarded.Found);
        Assert.Contains($"the RewriteRule [E=] lines at {path}:12, {path}:13, {path}:14 never run, because the [L] rules before them (the last at {path}:9)", forwarded.Found);
        Assert.EndsWith($"({path}:15)", forwarded.Found); // the RequestHeader line
        Assert.Contains("expr=%{REQUEST_SCHEME}://%{HTTP_HOST}%{REQUEST_URI}", forwarded.Fix);
        Assert.All(results.Where(r => r.CheckId != "loadbalancer.forwarded-headers"), r => Assert.Equal(CheckStatus.Pass, r.Status));
    }

    [ProxyFact(ProxyKind.Apache)]
    public void ApacheSendsNullsForVariablesTheRulesNeverSet()
    {
        var text = Localized("posit-apache-as-printed.conf");
        using (var proxy = ProxyProcess.Start(ProxyKind.Apache, text, _port, _dir))
            Assert.Single(LoadBalancerProbe.Run(All.Where(c => c.Id == "loadbalancer.sticky"), proxy.Uri, Live(1), Machine.Local, Options));
        Assert.Contains(Received, h => h.Contains("X-RStudio-Request: (null)://(null)(null)", StringComparison.Ordinal));
    }

    public static TheoryData<string, ProxyKind, int, string> Standby => new()
    {
        { "posit-nginx-backup.conf", ProxyKind.Nginx, 3, "backup" },
        { "apache-hot-standby.conf", ProxyKind.Apache, 2, "status=+H" },
        { "haproxy-backup.cfg", ProxyKind.HAProxy, 2, "backup" },
    };

    [Theory]
    [MemberData(nameof(Standby))]
    public void StandbyServersAreStickyAndASeparateWarningSaysNewUsersAreNotSpread(string name, ProxyKind kind, int nodes, string standby)
    {
        var path = FixturePath(name);
        Assert.Equal(kind, ProxyConfig.Load(path).Kind);
        var results = FromFile(path, Named(nodes));
        var sticky = results.Single(r => r.CheckId == "loadbalancer.sticky");
        Assert.Equal(CheckStatus.Pass, sticky.Status);
        Assert.Contains("sends every request to wb1.lab.internal:8787, its one active server", sticky.Found);
        var spread = results.Single(r => r.CheckId == "loadbalancer.distribution");
        Assert.Equal(CheckStatus.Warn, spread.Status);
        Assert.Contains($"wb2.lab.internal:8787 {standby}", spread.Found);
        Assert.Contains("does not spread new users over every node", spread.Found);
        Assert.Matches($@"Remove '{System.Text.RegularExpressions.Regex.Escape(standby)}' from the servers? at .*{System.Text.RegularExpressions.Regex.Escape(name)}:\d+", spread.Fix);
        // Every node is a server all the same, and the rest of the route is as Posit's examples have it.
        Assert.All(results.Where(r => r.CheckId != "loadbalancer.distribution"), r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));
    }

    [ProxyTheory]
    [MemberData(nameof(Standby))]
    public void StandbyServersLiveAreStickyWarnAndAreServersWhenTheFileSaysSo(string name, ProxyKind kind, int nodes, string standby)
    {
        var (file, live) = Run(name, kind, nodes);
        Assert.Equal(CheckStatus.Warn, file.Single(r => r.CheckId == "loadbalancer.distribution").Status);
        Assert.True(live.Single(r => r.CheckId == "loadbalancer.sticky").Status == CheckStatus.Pass, live.Single(r => r.CheckId == "loadbalancer.sticky").ToString());
        var spread = live.Single(r => r.CheckId == "loadbalancer.distribution");
        Assert.True(spread.Status == CheckStatus.Warn, spread.ToString());
        Assert.Contains($"reached {_node1.Address}; never {_node2.Address}", spread.Found);
        var servers = live.Single(r => r.CheckId == "loadbalancer.nodes");
        Assert.True(servers.Status == CheckStatus.Pass, servers.ToString());
        Assert.Contains($"{_node2.Address} is a standby server ({standby}", servers.Found);
        Assert.All(live.Where(r => r.CheckId is "loadbalancer.websocket" or "loadbalancer.timeout"), r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));

        // From outside alone, a standby node and a node the balancer lacks look the same: not a pass.
        var (_, alone) = Run(name, kind, nodes, withFile: false);
        var unknown = alone.Single(r => r.CheckId == "loadbalancer.nodes");
        Assert.Equal(CheckStatus.Fail, unknown.Status);
        Assert.Contains("a standby one", unknown.Found);
        Assert.Contains("pass -Path", unknown.Fix);
    }
}

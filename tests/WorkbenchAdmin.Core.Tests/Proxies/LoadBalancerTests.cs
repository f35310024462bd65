using System.Net;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Commands.Proxies;
using WorkbenchAdmin.Core.Proxies;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Proxies;

/// <summary>The load balancer checks from the file and live, against real nginx, HAProxy and Apache in front of two stand-in nodes.</summary>
public sealed class LoadBalancerTests : IDisposable
{
    private readonly NodeBackend _node1 = new();
    private readonly NodeBackend _node2 = new();
    private readonly TempDirectory _dir = new();
    private readonly int _port = Loopback.FreePort();

    public void Dispose()
    {
        _node1.Dispose();
        _node2.Dispose();
        _dir.Dispose();
    }

    private ClusterNodes Nodes => ClusterNodes.Of([_node1.Address, _node2.Address]);
    private static List<CheckDefinition> All => CheckCatalog.All.Where(c => c.Scope == CheckScope.LoadBalancer).ToList();

    private string Good(ProxyKind kind) => LoadBalancerConfigWriter.Generate(new LoadBalancerSpec
    {
        Kind = kind,
        Nodes = [("127.0.0.1", _node1.Port), ("127.0.0.1", _node2.Port)],
        Port = _port,
        ListenAddress = "127.0.0.1", // loopback only: a test's proxy is never reachable from outside
    });

    /// <summary>Each single mistake an admin makes, written into the good configuration as they would write it.</summary>
    private string WithMistake(ProxyKind kind, string mistake)
    {
        var text = Good(kind);
        string Without(string fragment) => text.Contains(fragment, StringComparison.Ordinal) ? text.Replace(fragment, "", StringComparison.Ordinal) : throw new InvalidOperationException($"'{fragment}' is not in the {kind} configuration");
        string Line(string start) => text.Split('\n').Single(l => l.TrimStart().StartsWith(start, StringComparison.Ordinal)) + "\n";
        return (kind, mistake) switch
        {
            (ProxyKind.Nginx, "sticky") => Without("    ip_hash;\n"),
            (ProxyKind.Nginx, "websocket") => Without("        proxy_set_header Upgrade $http_upgrade;\n"),
            (ProxyKind.Nginx, "timeout") => text.Replace("proxy_read_timeout 20d", "proxy_read_timeout 30s", StringComparison.Ordinal),
            (ProxyKind.Nginx, "nodes") => Without(Line($"server 127.0.0.1:{_node2.Port}")),
            (ProxyKind.Apache, "sticky") => text.Replace("ProxySet stickysession=WBROUTE ", "ProxySet ", StringComparison.Ordinal),
            (ProxyKind.Apache, "websocket") => Without(" upgrade=websocket"),
            (ProxyKind.Apache, "timeout") => text.Replace("ProxyTimeout 1728000", "ProxyTimeout 30", StringComparison.Ordinal),
            (ProxyKind.Apache, "nodes") => Without(Line($"BalancerMember \"http://127.0.0.1:{_node2.Port}\"")),
            (ProxyKind.HAProxy, "sticky") => Without(Line("cookie WBNODE")),
            (ProxyKind.HAProxy, "websocket") => text.Replace("    default_backend", "    http-request del-header Upgrade\n    default_backend", StringComparison.Ordinal),
            (ProxyKind.HAProxy, "timeout") => text.Replace("timeout tunnel 20d", "timeout tunnel 30s", StringComparison.Ordinal),
            (ProxyKind.HAProxy, "nodes") => Without(Line($"server 127.0.0.1:{_node2.Port}")),
            (ProxyKind.Nginx, "forwarded-headers") => Without(Line("proxy_set_header X-Forwarded-Proto")),
            (ProxyKind.Apache, "forwarded-headers") => Without(Line("RequestHeader set X-Forwarded-Proto")),
            (ProxyKind.HAProxy, "forwarded-headers") => Without(Line("http-request set-header X-Forwarded-Proto")),
            // The other half of the forwarded headers: the client's host name must reach Workbench.
            (ProxyKind.Nginx, "forwarded-host") => Without(Line("proxy_set_header Host")),
            (ProxyKind.Apache, "forwarded-host") => text.Replace("ProxyPreserveHost On", "ProxyPreserveHost Off\n    ProxyAddHeaders Off", StringComparison.Ordinal),
            (ProxyKind.HAProxy, "forwarded-host") => text.Replace("    default_backend", "    http-request set-header Host workbench.internal\n    default_backend", StringComparison.Ordinal),
            _ => throw new ArgumentException(mistake),
        };
    }

    /// <summary>The configuration as it is checked: the site file (nginx and Apache) or the whole file (HAProxy).</summary>
    private string WriteSite(ProxyKind kind, string text, string name = "site") => _dir.Write($"{name}.{kind.ToString().ToLowerInvariant()}.conf", text);

    private List<CheckResult> FromFile(ProxyKind kind, string text) =>
        LoadBalancerChecks.FromFile(All, ProxyConfig.Load(WriteSite(kind, text)), Nodes, Machine.Local).ToList();

    public static TheoryData<ProxyKind> Kinds => new(Enum.GetValues<ProxyKind>());

    public static TheoryData<ProxyKind, string> Mistakes()
    {
        var data = new TheoryData<ProxyKind, string>();
        foreach (var kind in Enum.GetValues<ProxyKind>())
            foreach (var mistake in new[] { "sticky", "websocket", "timeout", "nodes" }) data.Add(kind, mistake);
        return data;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AGeneratedConfigurationPassesEveryFileCheck(ProxyKind kind)
    {
        var results = FromFile(kind, Good(kind));
        Assert.Equal(All.Select(c => c.Id), results.Select(r => r.CheckId));
        Assert.All(results, r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));
    }

    /// <summary>The live mistakes, and one only the nodes can see: the forwarded headers.</summary>
    public static TheoryData<ProxyKind, string> FileMistakes()
    {
        var data = Mistakes();
        foreach (var kind in Enum.GetValues<ProxyKind>())
        {
            data.Add(kind, "forwarded-headers");
            data.Add(kind, "forwarded-host");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(FileMistakes))]
    public void EachMistakeFailsItsOwnCheckFromTheFileNamingFileAndLine(ProxyKind kind, string mistake)
    {
        var results = FromFile(kind, WithMistake(kind, mistake));
        // A node missing from the servers is loadbalancer.nodes' finding alone: the distribution check steps aside, saying so.
        var failed = Assert.Single(results, r => r.Status != CheckStatus.Pass
            && !(r is { CheckId: "loadbalancer.distribution", Status: CheckStatus.Skip } && r.Found.Contains("loadbalancer.nodes names the others", StringComparison.Ordinal)));
        Assert.Equal($"loadbalancer.{(mistake == "forwarded-host" ? "forwarded-headers" : mistake)}", failed.CheckId);
        Assert.Equal(CheckStatus.Fail, failed.Status);
        Assert.Matches(@"\.conf:\d+", failed.Found + failed.Fix);
        Assert.NotEmpty(failed.Fix);
    }

    [Fact]
    public void AListenAddressIsWrittenAsEachProxyNamesOneAndAnythingElseIsRefused()
    {
        string Generate(ProxyKind kind, string? address) => LoadBalancerConfigWriter.Generate(new LoadBalancerSpec
            { Kind = kind, Nodes = [("10.0.0.1", 8787)], Port = 8080, ListenAddress = address });
        Assert.Contains("    listen 127.0.0.1:8080;\n", Generate(ProxyKind.Nginx, "127.0.0.1"));
        Assert.Contains("    bind 127.0.0.1:8080\n", Generate(ProxyKind.HAProxy, "127.0.0.1"));
        Assert.Contains("<VirtualHost 127.0.0.1:8080>", Generate(ProxyKind.Apache, "127.0.0.1"));
        Assert.Contains("    listen [::1]:8080;\n", Generate(ProxyKind.Nginx, "::1"));
        // Without one, every address, as before.
        Assert.Contains("    listen 8080;\n", Generate(ProxyKind.Nginx, null));
        Assert.Contains("    bind :8080\n", Generate(ProxyKind.HAProxy, null));
        Assert.Contains("<VirtualHost *:8080>", Generate(ProxyKind.Apache, null));
        // Written as the parser reads it: an IPv4-mapped address as its IPv4, IPv6 compressed.
        Assert.Contains("    listen 10.0.0.5:8080;\n", Generate(ProxyKind.Nginx, "::ffff:10.0.0.5"));
        Assert.Contains("    listen [fd00::1]:8080;\n", Generate(ProxyKind.Nginx, "fd00:0:0::1"));
        // Not a name, not text after a zone id (the parser lets ; { } and new lines through there), not a short IPv4 form.
        foreach (var text in new[] { "localhost; include /etc/passwd", "fe80::1%eth0;}\nserver {", "fe80::1%2", "10.5", "0x7f.1" })
        {
            var bad = Assert.Throws<WbException>(() => Generate(ProxyKind.Nginx, text));
            Assert.Equal(("InvalidListenAddress", WbErrorCategory.InvalidArgument), (bad.ErrorId, bad.Category));
        }
    }

    [ProxyTheory]
    [MemberData(nameof(Kinds))]
    public void TheRealServerAcceptsTheGeneratedConfiguration(ProxyKind kind)
    {
        var (exit, output) = ProxyProcess.Validate(kind, Good(kind), _dir);
        Assert.True(exit == 0, $"{kind} refused the configuration: {output}");
    }

    [ProxyTheory]
    [MemberData(nameof(Kinds))]
    public void TheRealServerAcceptsTheGeneratedConfigurationWithTls(ProxyKind kind)
    {
        var (cert, key) = SelfSigned();
        var text = LoadBalancerConfigWriter.Generate(new LoadBalancerSpec
        {
            Kind = kind, Nodes = [("127.0.0.1", _node1.Port), ("127.0.0.1", _node2.Port)], Port = _port, ServerName = "workbench.example.com", ListenAddress = "127.0.0.1",
            TlsCertificate = cert, TlsKey = kind == ProxyKind.HAProxy ? cert : key,
        });
        var (exit, output) = ProxyProcess.Validate(kind, text, _dir);
        Assert.True(exit == 0, $"{kind} refused the TLS configuration: {output}");
        Assert.All(FromFile(kind, text), r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));
    }

    /// <summary>A throwaway certificate and key (PEM); the HAProxy PEM holds both.</summary>
    private (string Cert, string Key) SelfSigned()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=workbench.example.com", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var key = rsa.ExportPkcs8PrivateKeyPem();
        return (_dir.Write("tls.pem", cert.ExportCertificatePem() + "\n" + key + "\n"), _dir.Write("tls.key", key + "\n"));
    }

    private ProbeOptions Live => new()
    {
        Hold = TimeSpan.FromSeconds(2),
        // Clients in different /24 networks of the loopback range: nginx's ip_hash keys on the first three octets.
        ClientAddresses = Enumerable.Range(1, 8).Select(i => IPAddress.Parse($"127.0.{i}.1")).ToList(),
    };

    private List<CheckResult> Probe(ProxyKind kind, string text, params string[] checks)
    {
        using var proxy = ProxyProcess.Start(kind, text, _port, _dir);
        var selected = All.Where(c => checks.Length == 0 || checks.Contains(c.Id)).ToList();
        return LoadBalancerProbe.Run(selected, proxy.Uri, Nodes, Machine.Local, Live).ToList();
    }

    [ProxyTheory]
    [MemberData(nameof(Kinds))]
    public void AGeneratedConfigurationPassesEveryLiveCheck(ProxyKind kind)
    {
        var results = Probe(kind, Good(kind));
        Assert.All(results.Where(r => r.CheckId != "loadbalancer.forwarded-headers"), r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));
        Assert.Equal(CheckStatus.Skip, results.Single(r => r.CheckId == "loadbalancer.forwarded-headers").Status);
        Assert.Contains("after 2s idle", results.Single(r => r.CheckId == "loadbalancer.timeout").Found);
        // What the nodes received: the client's scheme and host, as the file check expects.
        Assert.Contains(_node1.Requests.Concat(_node2.Requests), h => h.Contains("X-Forwarded-Proto: http", StringComparison.OrdinalIgnoreCase));
    }

    [ProxyTheory]
    [MemberData(nameof(Mistakes))]
    public void EachMistakeFailsItsOwnCheckLive(ProxyKind kind, string mistake)
    {
        var text = WithMistake(kind, mistake);
        // The timeout mistake scaled to the test's 2 s hold: 1 s instead of 30 s. Apache keeps an idle websocket
        // tunnel while either ProxyTimeout or its client-side Timeout lasts, so both are short here.
        if (mistake == "timeout")
            text = kind == ProxyKind.Apache
                ? text.Replace("    ProxyTimeout 30\n", "    ProxyTimeout 1\n    Timeout 1\n", StringComparison.Ordinal)
                : text.Replace("30s", "1s", StringComparison.Ordinal);
        var result = Assert.Single(Probe(kind, text, $"loadbalancer.{mistake}"));
        Assert.True(result.Status == CheckStatus.Fail, result.ToString());
        Assert.DoesNotContain("could not be checked", result.Found);
        Assert.NotEmpty(result.Fix);
    }

    [Fact]
    public void TestWbClusterRunsTheFileChecksWithTheStoresNodesAndFailsClosedWithoutThem()
    {
        var root = Directory.CreateDirectory(_dir.File("etc")).FullName;
        File.WriteAllText(Path.Combine(root, "database.conf"), $"provider=postgresql\nhost=127.0.0.1\nport={Loopback.FreePort()}\npassword=x\nconnection-timeout-seconds=2\n");
        var site = WriteSite(ProxyKind.Nginx, Good(ProxyKind.Nginx));
        var results = ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = root, Check = ["loadbalancer.*"], LoadBalancer = site }, new RecordingHost());
        Assert.Equal(All.Select(c => c.Id), results.Select(r => r.CheckId));
        var nodes = results.Single(r => r.CheckId == "loadbalancer.nodes");
        Assert.Equal(CheckStatus.Fail, nodes.Status);
        Assert.Contains("could not be checked: the cluster's nodes are unknown (the cluster store could not be read", nodes.Found);
        Assert.All(results.Where(r => r.CheckId != "loadbalancer.nodes"), r => Assert.Equal(CheckStatus.Pass, r.Status));

        var e = Assert.Throws<WbException>(() => ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = root, Check = ["loadbalancer.*"] }, new RecordingHost()));
        Assert.Equal("LoadBalancerRequired", e.ErrorId);
        Assert.DoesNotContain(ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = root, Check = ["config.*", "loadbalancer.*"] }, new RecordingHost()),
            r => r.CheckId.StartsWith("loadbalancer.", StringComparison.Ordinal));
    }

    [Fact]
    public void ABalancerThatDoesNotAnswerFailsEveryLiveCheckSayingSo()
    {
        var results = LoadBalancerProbe.Run(All, new Uri($"http://127.0.0.1:{Loopback.FreePort()}/"), Nodes, Machine.Local, Live).ToList();
        Assert.Equal(All.Count, results.Count);
        Assert.All(results, r => Assert.StartsWith("could not be checked:", r.Found));
    }

    [Fact]
    public void UnknownNodesMakeTheNodesCheckUncheckedNotPassed()
    {
        var results = LoadBalancerChecks.FromFile(All, ProxyConfig.Load(WriteSite(ProxyKind.Nginx, Good(ProxyKind.Nginx))),
            ClusterNodes.Unavailable("the cluster store could not be read"), Machine.Local).ToList();
        var nodes = results.Single(r => r.CheckId == "loadbalancer.nodes");
        Assert.Equal(CheckStatus.Fail, nodes.Status);
        Assert.StartsWith("could not be checked:", nodes.Found);
    }

    [Fact]
    public void TheOperationWritesAtomicallyAndHonoursWhatIf()
    {
        var path = _dir.File("out.conf");
        var request = new NewLoadBalancerConfigRequest { Kind = "haproxy", Node = [_node1.Address, _node2.Address], Path = path };
        LoadBalancerOperations.New(request, new RecordingHost(confirm: false));
        Assert.False(File.Exists(path));
        LoadBalancerOperations.New(request, new RecordingHost());
        Assert.Contains($"server {_node2.Address} {_node2.Address} cookie node2 check", File.ReadAllText(path));
        var host = new RecordingHost();
        LoadBalancerOperations.Test(new TestLoadBalancerRequest { Path = path, Node = [_node1.Address, _node2.Address], Quiet = true }, host);
        Assert.Equal(true, Assert.Single(host.Objects));
    }
}

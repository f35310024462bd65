using WorkbenchAdmin.Core.Commands.Proxies;
using WorkbenchAdmin.Core.Proxies;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Proxies;

/// <summary>Issue 24: what Test-WbLoadBalancer reads as root, and what New-WbLoadBalancerConfig writes.</summary>
public sealed class ProxyTrustTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly ClusterNodes TwoNodes = ClusterNodes.Of(["10.0.0.1:8787", "10.0.0.2:8787"]);
    public void Dispose() => _dir.Dispose();

    [RootFact("chown to another user")]
    public void AnIncludeAnotherUserOwnsInAStickyDirectoryIsNotRead()
    {
        // /tmp is sticky, so TrustedPath lets it be walked through: the file itself must be judged.
        var sticky = Directory.CreateDirectory(_dir.File("tmp")).FullName;
        File.SetUnixFileMode(sticky, (UnixFileMode)0x3FF); // 1777, as /tmp
        var theirs = _dir.Write("tmp/x-1.conf", "upstream wb { server 10.0.0.1:8787; }\n");
        UnixFile.ChangeOwner(theirs, Posix.Nobody, Posix.Nobody);
        var main = _dir.Write("main.conf", $"include {sticky}/x-*.conf;\nserver {{ location / {{ proxy_pass http://wb; }} }}\n");
        var e = Assert.Throws<WbException>(() => ProxyConfig.Load(main));
        Assert.Equal(("LoadBalancerConfigUnsafe", WbErrorCategory.SecurityError), (e.ErrorId, e.Category));
        Assert.Contains($"'{theirs}' (included from {main}:1): it is not trusted ({theirs} is owned by uid {Posix.Nobody}", e.Message);
        var results = LoadBalancerVerifier.Run(LoadBalancerOperations.Select(null), main, null, null, TwoNodes, Machine.Local, new ProbeOptions()).ToList();
        Assert.All(results, r => Assert.StartsWith("could not be checked:", r.Found));
    }

    [Fact]
    public void AConfigurationFileThatIsAFifoIsNotWaitedOn()
    {
        var fifo = _dir.File("fifo.conf");
        System.Diagnostics.Process.Start("mkfifo", [fifo]).WaitForExit();
        var e = Assert.Throws<WbException>(() => ProxyConfig.Load(fifo, ProxyKind.Nginx));
        Assert.Contains("not a regular file", e.Message);
    }

    [Theory]
    [InlineData("node1\0evil:8787", "node1\\u0000evil:8787")]
    [InlineData("node1.example.com:99999", "node1.example.com:99999")]
    [InlineData("node1.example.com:0", "node1.example.com:0")]
    [InlineData(":8787", ":8787")]
    public void ANodeThatIsNotHostAndPortIsRefusedNamingTheParameterAndValue(string node, string shown)
    {
        var e = Assert.Throws<WbException>(() => ClusterNodes.Parse(node));
        Assert.Equal(("InvalidNodeAddress", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
        Assert.StartsWith($"-Node '{shown}' is not host:port", e.Message);
    }

    [Fact]
    public void NothingWithAControlCharacterIsWrittenIntoAProxyConfiguration()
    {
        var e = Assert.Throws<WbException>(() => LoadBalancerConfigWriter.Generate(new LoadBalancerSpec
        {
            Kind = ProxyKind.Nginx, Nodes = [("10.0.0.1", 8787)], ServerName = "wb\u0000.example.com",
        }));
        Assert.Equal("InvalidLoadBalancerValue", e.ErrorId);
        Assert.Contains("wb\\u0000.example.com", e.Message);
    }
}

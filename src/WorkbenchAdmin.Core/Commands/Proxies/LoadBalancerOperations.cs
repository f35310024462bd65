using System.Net;
using System.Text;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Proxies;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Commands.Proxies;

public sealed record TestLoadBalancerRequest : StoreRequest
{
    /// <summary>The proxy's configuration file.</summary>
    public string? Path { get; init; }
    public string? Kind { get; init; }
    /// <summary>The balancer's URL, for the live checks.</summary>
    public string? Uri { get; init; }
    /// <summary>host:port of each node; none means the store's registered nodes.</summary>
    public IReadOnlyList<string>? Node { get; init; }
    public IReadOnlyList<string>? Check { get; init; }
    public double? HoldSec { get; init; }
    public IReadOnlyList<string>? ClientAddress { get; init; }
    public bool Quiet { get; init; }
    public Machine? Machine { get; init; }
}

public sealed record NewLoadBalancerConfigRequest : StoreRequest
{
    public required string Kind { get; init; }
    public IReadOnlyList<string>? Node { get; init; }
    public string? ServerName { get; init; }
    public int? Port { get; init; }
    public string? TlsCertificate { get; init; }
    public string? TlsKey { get; init; }
    /// <summary>The IP address the balancer listens on; null for every address.</summary>
    public string? ListenAddress { get; init; }
    /// <summary>Where to write; null writes the text to the pipeline.</summary>
    public string? Path { get; init; }
}

/// <summary>Test-WbLoadBalancer and New-WbLoadBalancerConfig.</summary>
public static class LoadBalancerOperations
{
    public static void Test(TestLoadBalancerRequest request, ICommandHost host) =>
        CheckRunner.WriteVerdict(Verify(request, host), request.Quiet, host.WriteObject);

    public static IReadOnlyList<CheckResult> Verify(TestLoadBalancerRequest request, ICommandHost host)
    {
        if (request.Path is null && request.Uri is null)
            throw new WbException("LoadBalancerTargetRequired", WbErrorCategory.InvalidArgument,
                "Name the load balancer: -Path <its configuration file>, -Uri <its URL>, or both.", null);
        var selected = Select(request.Check);
        var nodes = request.Node is { Count: > 0 } given ? ClusterNodes.Of(given) : StoreNodes(request, host);
        return CheckRunner.Report(LoadBalancerVerifier.Run(selected, request.Path, request.Kind, request.Uri, nodes, request.Machine ?? Machine.Local, Options(request, host)),
            request.Quiet, host.WriteObject);
    }

    /// <summary>The load balancer checks matching <paramref name="patterns"/> (all when none).</summary>
    internal static List<CheckDefinition> Select(IReadOnlyList<string>? patterns) =>
        CheckRunner.Select(LoadBalancerVerifier.Checks, patterns, "load balancer check", "they are");

    internal static ProbeOptions Options(TestLoadBalancerRequest request, ICommandHost host)
    {
        if (request.HoldSec is { } hold && (!double.IsFinite(hold) || hold <= 0))
            throw new WbException("InvalidHold", WbErrorCategory.InvalidArgument, $"-HoldSec {hold} must be more than 0.", hold);
        var clients = new List<IPAddress>();
        foreach (var a in request.ClientAddress ?? [])
            clients.Add(IPAddress.TryParse(a, out var ip) ? ip
                : throw new WbException("InvalidClientAddress", WbErrorCategory.InvalidArgument, $"-ClientAddress '{a}' is not an IP address of this host.", a));
        return new ProbeOptions
        {
            Hold = request.HoldSec is { } h ? TimeSpan.FromSeconds(h) : ProbeOptions.DefaultHold,
            ClientAddresses = clients,
            Cancellation = host.Cancellation,
        };
    }

    /// <summary>Every registered node, or why they cannot be known (the store unreachable).</summary>
    internal static ClusterNodes StoreNodes(StoreRequest request, ICommandHost host)
    {
        try { return ClusterNodes.Of(ClusterOperations.Open(request, host).GetNodes(request.OfflineAfter, host.Cancellation).Select(n => n.Address)); }
        catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException)
        {
            return ClusterNodes.Unavailable($"the cluster store could not be read: {e.Message}");
        }
    }

    public static void New(NewLoadBalancerConfigRequest request, ICommandHost host)
    {
        var kind = ProxyConfig.ParseKind(request.Kind);
        var nodes = request.Node is { Count: > 0 } given
            ? given.Select(ClusterNodes.Parse).ToList()
            : ClusterOperations.Open(request, host).GetNodes(request.OfflineAfter, host.Cancellation).Select(n => (n.Host, n.Port)).ToList();
        if (request.Port is { } port && port is < 1 or > 65535)
            throw new WbException("InvalidPort", WbErrorCategory.InvalidArgument, $"-Port {port} is not between 1 and 65535.", port);
        var text = LoadBalancerConfigWriter.Generate(new LoadBalancerSpec
        {
            Kind = kind,
            Nodes = nodes,
            ServerName = request.ServerName ?? "_",
            Port = request.Port,
            TlsCertificate = request.TlsCertificate,
            TlsKey = request.TlsKey,
            ListenAddress = request.ListenAddress,
        });
        if (request.Path is null)
        {
            host.WriteObject(text);
            return;
        }
        if (!host.ShouldProcess(request.Path, $"Write the {request.Kind.ToLowerInvariant()} configuration for {nodes.Count} node{(nodes.Count == 1 ? "" : "s")}")) return;
        AtomicFile.Write(request.Path, Encoding.UTF8.GetBytes(text));
        host.WriteVerbose($"Wrote {request.Path}; check it with: Test-WbLoadBalancer -Path {request.Path}");
    }
}

using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Proxies;

namespace WorkbenchAdmin.Core.Verification;

/// <summary>The load balancer checks (see <see cref="LoadBalancerCheckSet"/>) over a configuration file, a live URL, or both.</summary>
public static class LoadBalancerVerifier
{
    /// <summary>The catalog's load balancer checks, in catalog order.</summary>
    public static IEnumerable<CheckDefinition> Checks => CheckCatalog.All.Where(c => c.Scope == CheckScope.LoadBalancer);

    /// <summary>The file checks (when a path is given) and the live checks (when a URL is given), in catalog order for each.</summary>
    public static IEnumerable<CheckResult> Run(IReadOnlyList<CheckDefinition> selected, string? path, string? kind, string? uri, ClusterNodes nodes,
        Machine machine, ProbeOptions options)
    {
        ProxyConfig? fileConfig = null;
        if (path is not null)
        {
            ProxyConfig? config = null;
            string? why = null;
            // A -Kind that names no kind is the caller's mistake; a file whose kind cannot be told is a check that cannot be made.
            try { config = ProxyConfig.Load(path, kind is null ? null : ProxyConfig.ParseKind(kind)); }
            catch (WbException e) when (e.ErrorId is not WbErrorIds.LoadBalancerKindUnknown || kind is null) { why = e.Message; }
            fileConfig = config;
            if (config is null)
                foreach (var c in selected) yield return c.Unchecked(path, why!, "Correct what the message names, then check again.");
            else
                foreach (var r in LoadBalancerChecks.FromFile(selected, config, nodes, machine, options.Cancellation)) yield return r;
        }
        if (uri is not null)
        {
            if (!System.Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
                throw new WbException("InvalidLoadBalancerUri", WbErrorCategory.InvalidArgument, $"-Uri '{uri}' is not an http:// or https:// URL.", uri);
            // The file, when read, tells the live checks which nodes are standby servers.
            foreach (var r in LoadBalancerProbe.Run(selected, parsed, nodes, machine, options, fileConfig)) yield return r;
        }
    }

    /// <summary>One load balancer check within Test-WbCluster, against the registered nodes: from its file, or live through its URL.</summary>
    internal static IEnumerable<CheckResult> InCluster(CheckDefinition check, CheckContext x)
    {
        var loadBalancer = x.LoadBalancer ?? throw new InvalidOperationException($"{check.Id} runs only with a load balancer named.");
        var nodes = x.Cluster.Context is { } cluster ? ClusterNodes.Of(cluster.Nodes.Select(n => n.Address))
            : ClusterNodes.Unavailable(x.Cluster.Unavailable ?? "the cluster store was not read");
        var live = System.Uri.TryCreate(loadBalancer, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
        var options = new ProbeOptions { Cancellation = x.Cancellation };
        return Run([check], live ? null : loadBalancer, null, live ? loadBalancer : null, nodes, x.Node.Machine, options).ToList();
    }
}

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>
/// The load balancer checks by their id in <see cref="CheckCatalog"/>, each with both of its ways: judged from the
/// configuration file (per route to the nodes), and probed live through the balancer's URL. An id not here is
/// refused, never run as another check.
/// </summary>
public static class LoadBalancerCheckSet
{
    internal delegate CheckResult FileJudge(CheckDefinition check, RouteUnderCheck route);
    internal delegate CheckResult LiveJudge(CheckDefinition check, LoadBalancerProbe.LiveUnderCheck balancer);

    private static readonly Dictionary<string, (FileJudge FromFile, LiveJudge Live)> ById = new(StringComparer.Ordinal)
    {
        ["loadbalancer.nodes"] = (LoadBalancerChecks.Nodes, LoadBalancerProbe.Nodes),
        ["loadbalancer.sticky"] = (LoadBalancerChecks.Sticky, LoadBalancerProbe.Sticky),
        ["loadbalancer.websocket"] = (LoadBalancerChecks.WebSocket, LoadBalancerProbe.WebSocket),
        ["loadbalancer.timeout"] = (LoadBalancerChecks.Timeouts, LoadBalancerProbe.Timeout),
        ["loadbalancer.forwarded-headers"] = (LoadBalancerChecks.Forwarded, LoadBalancerProbe.SeenOnlyByNodes),
        ["loadbalancer.distribution"] = (LoadBalancerChecks.Distribution, LoadBalancerProbe.Distribution),
    };

    /// <summary>The ids of the checks implemented here.</summary>
    public static IEnumerable<string> Ids => ById.Keys;

    internal static (FileJudge FromFile, LiveJudge Live) Of(CheckDefinition check) =>
        check.Scope == CheckScope.LoadBalancer && ById.TryGetValue(check.Id, out var judges) ? judges
            : throw new ArgumentException($"'{check.Id}' is not a load balancer check: they are {string.Join(", ", ById.Keys)}.", nameof(check));
}

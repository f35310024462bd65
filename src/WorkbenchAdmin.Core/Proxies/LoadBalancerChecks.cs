using System.Net;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>The cluster's nodes as the load balancer checks need them: host:port each, or why they are unknown.</summary>
public sealed record ClusterNodes(IReadOnlyList<(string Host, int Port)> Nodes, string? Unknown)
{
    public static ClusterNodes Of(IEnumerable<string> addresses) => new(addresses.Select(Parse).ToList(), null);
    public static ClusterNodes Unavailable(string why) => new([], why);

    /// <summary>host:port with a port from 1 to 65535 and no control character (a NUL would cut the file a proxy reads).</summary>
    public static (string Host, int Port) Parse(string address) =>
        NginxConfig.SplitHostPort(address.Trim(), 0) is { Port: > 0 and <= 65535 } hp && hp.Host.Length > 0 && !address.Any(char.IsControl) ? hp
            : throw new WbException("InvalidNodeAddress", WbErrorCategory.InvalidArgument,
                $"-Node '{SafeText.Quote(address)}' is not host:port (a host name or address, and a port from 1 to 65535).", address);

    public static string Format((string Host, int Port) n) => NodeCandidate.FormatAddress(n.Host, n.Port);
}

/// <summary>One route of the balancer's configuration under a check: where it is, the nodes it should reach, and its label in findings.</summary>
internal sealed record RouteUnderCheck(string Target, ProxyRoute Route, ClusterNodes Nodes, NodeMatcher Matcher, string Label);

/// <summary>The load balancer checks made from its configuration file: each over the routes that reach the nodes.</summary>
public static class LoadBalancerChecks
{
    public const double MinimumTimeoutSec = 60;

    public static IEnumerable<CheckResult> FromFile(IEnumerable<CheckDefinition> selected, ProxyConfig config, ClusterNodes nodes, Machine machine,
                                                   CancellationToken cancellation = default)
    {
        var target = config.MainFile;
        var matcher = new NodeMatcher(machine, cancellation);
        var routes = config.Routes.Where(r => nodes.Nodes.Any(n => r.Servers.Any(s => matcher.Same(s.Host, s.Port, n.Host, n.Port)))).ToList();
        if (routes.Count == 0) routes = config.Routes.ToList();
        // Every check is known before any is judged: an id with no judge is refused, never run as another.
        foreach (var (c, judge) in selected.Select(c => (c, LoadBalancerCheckSet.Of(c).FromFile)).ToList())
        {
            if (routes.Count == 0)
            {
                yield return c.Fail(target, $"no route to any server in {string.Join(", ", config.Files)}: no {Verb(config.Kind)}", $"a {Verb(config.Kind)} to the Workbench nodes",
                    "Generate a configuration with New-WbLoadBalancerConfig, or add the route to the nodes.");
                continue;
            }
            foreach (var route in routes)
                yield return judge(c, new RouteUnderCheck(target, route, nodes, matcher, routes.Count > 1 ? $" [{route.Name}]" : ""));
        }
    }

    internal static CheckResult Sticky(CheckDefinition c, RouteUnderCheck r) =>
        Judge(c, r.Target, r.Route.Sticky, r.Label, "requests of one user on one node (needed with SAML)");

    internal static CheckResult WebSocket(CheckDefinition c, RouteUnderCheck r) =>
        Judge(c, r.Target, r.Route.WebSocket, r.Label, "the websocket upgrade passed on to the nodes");

    private static string Verb(ProxyKind kind) => kind switch
    {
        ProxyKind.Nginx => "proxy_pass",
        ProxyKind.Apache => "ProxyPass",
        _ => "frontend with a backend",
    };

    private static CheckResult Judge(CheckDefinition c, string target, ProxyFact fact, string label, string expected) =>
        !fact.Ok ? c.Fail(target, fact.Describe() + label, expected, fact.Fix)
        : fact.Warn ? c.Warn(target, fact.Describe() + label, expected, fact.Fix)
        : c.Pass(target, fact.Describe() + label, expected);

    internal static CheckResult Nodes(CheckDefinition c, RouteUnderCheck r)
    {
        var (target, route, nodes, matcher, label) = r;
        if (nodes.Unknown is { } why)
            return c.Unchecked(target, $"the cluster's nodes are unknown ({why})", "Pass -Node host:port for each node, or make the cluster store reachable.");
        if (route.ServersUnknown is { } unknown)
            return c.Unchecked(target, unknown + label, "Name the nodes in the configuration (an upstream, balancer or backend), not through a variable.");
        var servers = string.Join(", ", route.Servers.Select(s => s.Describe()));
        var missing = nodes.Nodes.Where(n => !route.Servers.Any(s => matcher.Same(s.Host, s.Port, n.Host, n.Port))).Select(ClusterNodes.Format).ToList();
        var expected = $"every node: {string.Join(", ", nodes.Nodes.Select(ClusterNodes.Format))}";
        if (missing.Count > 0)
            return c.Fail(target, $"{string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} not among the servers ({(servers.Length > 0 ? servers : "none")}){label}", expected,
                string.Join(" ", missing.Select(route.AddServerFix)));
        var extra = route.Servers.Where(s => !nodes.Nodes.Any(n => matcher.Same(s.Host, s.Port, n.Host, n.Port))).ToList();
        if (extra.Count > 0)
            return c.Warn(target, $"{string.Join(", ", extra.Select(s => $"{s.Address} ({s.At})"))} {(extra.Count == 1 ? "is" : "are")} not a registered node{label}", expected,
                "Remove servers that are not Workbench nodes of this cluster, or register them (Register-WbNode).");
        return c.Pass(target, $"{nodes.Nodes.Count} of {nodes.Nodes.Count} nodes are servers: {servers}{label}", expected);
    }

    internal static CheckResult Timeouts(CheckDefinition c, RouteUnderCheck r)
    {
        var (target, route, _, _, label) = r;
        var expected = $"at least {MinimumTimeoutSec:0} s";
        var low = route.Timeouts.Where(t => !t.Ok(MinimumTimeoutSec)).ToList();
        return low.Count == 0
            ? c.Pass(target, string.Join(", ", route.Timeouts.Select(t => t.Describe())) + label, expected)
            : c.Fail(target, $"{string.Join(", ", low.Select(t => t.Describe()))}: sessions drop when idle that long{label}", expected, string.Join(" ", low.Select(t => t.Fix).Distinct()));
    }

    /// <summary>
    /// Whether new users are spread over the nodes (the multi-server guide: "the load balancing method distributes
    /// sessions across the available nodes"). A Warn, not a Fail, when standby servers hold nodes back, or one server
    /// takes every request: Posit's "Access and Availability" documents that active/passive shape (nginx "backup"),
    /// where Workbench's own balancer still places sessions on every node. A node that is no server at all is
    /// loadbalancer.nodes' finding, not this one's (our choice: one finding per mistake).
    /// </summary>
    internal static CheckResult Distribution(CheckDefinition c, RouteUnderCheck r)
    {
        var (target, route, nodes, matcher, label) = r;
        const string expected = "new users spread over every node by the load balancer (active/active), as the multi-server guide asks";
        if (route.ServersUnknown is { } unknown)
            return c.Unchecked(target, unknown + label, "Name the nodes in the configuration (an upstream, balancer or backend), not through a variable.");
        if (nodes.Unknown is null && nodes.Nodes.Count <= 1)
            return c.Pass(target, $"the cluster has {nodes.Nodes.Count} node{(nodes.Nodes.Count == 1 ? "" : "s")}: there is nothing to spread{label}", expected);
        var active = route.Servers.Where(s => s.Standby is null).ToList();
        var standby = route.Servers.Where(s => s.Standby is not null).ToList();
        bool Serves(IEnumerable<ProxyServer> servers, (string Host, int Port) n) => servers.Any(s => matcher.Same(s.Host, s.Port, n.Host, n.Port));
        var activeNodes = nodes.Nodes.Count(n => Serves(active, n));
        var heldBack = nodes.Nodes.Where(n => !Serves(active, n) && Serves(standby, n)).ToList();
        var note = " Keep each user on one node (loadbalancer.sticky says how). Or keep this active/passive shape on purpose: Workbench's own balancer still places "
            + "new sessions on every node (Posit's Access and Availability), and the guide's acceptance test shows where they land.";
        var spread = $"new users are spread over {string.Join(", ", active.Select(s => s.Address))}";
        if (standby.Count > 0 && (nodes.Unknown is not null || heldBack.Count > 0))
            return c.Warn(target, (active.Count == 1 ? $"every request goes to {active[0].Describe()}" : active.Count == 0 ? "no server is active" : spread)
                + $"; {string.Join(", ", standby.Select(s => s.Describe()))} only while {(active.Count == 1 ? "it is" : "they are")} down: "
                + $"the load balancer does not spread new users over every node{label}",
                expected, string.Join(" ", standby.GroupBy(s => s.Standby).Select(g => $"Remove '{g.Key}' from the server{(g.Count() == 1 ? "" : "s")} at {string.Join(", ", g.Select(s => s.At))}.")) + note);
        if (nodes.Unknown is not null && active.Count <= 1)
            return c.Warn(target, $"every request goes to {(active.Count == 1 ? active[0].Describe() : "no server")}, the route's one server: the load balancer does not spread new users{label}",
                expected, $"Give the route a server for every node ({route.AddServerFix("<node>:<port>")}).{note}");
        if (nodes.Unknown is null && activeNodes <= 1)
            return c.Skip(target, $"{activeNodes} of the cluster's {nodes.Nodes.Count} nodes is a server of this route: loadbalancer.nodes names the others{label}");
        return c.Pass(target, $"{spread}, none held back as a standby{label}", expected);
    }

    internal static CheckResult Forwarded(CheckDefinition c, RouteUnderCheck r)
    {
        var (target, route, _, _, label) = r;
        const string expected = "the client's URL passed to Workbench: X-RStudio-Request (scheme, host, port, path), or Forwarded, or X-Forwarded-Proto with the client's Host (or X-Forwarded-Host)";
        // Workbench reads X-RStudio-Request, else Forwarded, and then nothing else: that header decides alone.
        if (route.OriginalUrl is { } url) return Judge(c, target, url, label, expected);
        var bad = new[] { route.ForwardedProto, route.ForwardedHost }.Where(f => !f.Ok).ToList();
        return bad.Count == 0
            ? c.Pass(target, $"{route.ForwardedProto.Describe()}; {route.ForwardedHost.Describe()}{label}", expected)
            : c.Fail(target, string.Join("; ", bad.Select(f => f.Describe())) + label, expected, string.Join(" ", bad.Select(f => f.Fix)));
    }
}

/// <summary>Whether a proxy's server and a node are the same: the same port, and the same name or an address in common.</summary>
internal sealed class NodeMatcher(Machine machine, CancellationToken cancellation)
{
    private readonly Dictionary<string, IReadOnlyList<string>> _resolved = new(StringComparer.OrdinalIgnoreCase);

    public bool Same(string host1, int port1, string host2, int port2) =>
        port1 == port2 && (host1.Equals(host2, StringComparison.OrdinalIgnoreCase) || Addresses(host1).Intersect(Addresses(host2)).Any());

    private IReadOnlyList<string> Addresses(string host)
    {
        if (IPAddress.TryParse(host, out var ip)) return [ip.ToString()];
        if (!_resolved.TryGetValue(host, out var list)) _resolved[host] = list = machine.Resolve(host, cancellation);
        return list;
    }
}

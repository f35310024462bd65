namespace WorkbenchAdmin.Model;

public enum CheckScope
{
    /// <summary>Runs on one node's configuration root.</summary>
    Node,
    /// <summary>Compares nodes through the cluster store.</summary>
    Cluster,
    /// <summary>Compares what is found with a cluster spec file.</summary>
    Spec,
    /// <summary>Reads the external load balancer's configuration file, or probes it through its URL.</summary>
    LoadBalancer,
}

/// <summary>A check: its stable id, the area it belongs to (a Pester tag), what it verifies, and how results are made.</summary>
public sealed record CheckDefinition(string Id, string Area, CheckScope Scope, string Title)
{
    public CheckResult Pass(string target, string found, string expected = "", string fix = "") => Make(target, CheckStatus.Pass, found, expected, fix);
    public CheckResult Warn(string target, string found, string expected, string fix) => Make(target, CheckStatus.Warn, found, expected, fix);
    public CheckResult Fail(string target, string found, string expected, string fix) => Make(target, CheckStatus.Fail, found, expected, fix);
    /// <summary>Does not apply here (a spec check without a spec, no home root given): <paramref name="reason"/> says why.</summary>
    public CheckResult Skip(string target, string reason) => Make(target, CheckStatus.Skip, reason, "", "");
    /// <summary>
    /// Applies but could not be made (the store unreachable, a file unreadable): a Fail, so -Quiet, exit codes and
    /// Pester never count an unverified cluster as healthy.
    /// </summary>
    public CheckResult Unchecked(string target, string why, string fix) =>
        Make(target, CheckStatus.Fail, $"could not be checked: {why}", "a check that can be made", fix);

    private CheckResult Make(string target, CheckStatus status, string found, string expected, string fix) =>
        new() { CheckId = Id, Area = Area, Target = target, Status = status, Found = found, Expected = expected, Fix = fix };
}

/// <summary>Every check Test-WbCluster knows, in the order it runs them.</summary>
public static class CheckCatalog
{
    public static readonly IReadOnlyList<CheckDefinition> All =
    [
        new("config.lb-enabled", "config", CheckScope.Node, "Load balancing is enabled with load-balancing-enabled=1"),
        new("config.lb-file", "config", CheckScope.Node, "The load-balancer file is present"),
        new("config.launcher-address", "config", CheckScope.Node, "The launcher listens on an address other nodes reach"),
        new("config.rserver-options", "config", CheckScope.Node, "Every rserver.conf option is one Workbench documents (it refuses to start on another)"),
        new("storage.shared-path", "storage", CheckScope.Node, "server-shared-storage-path is set and on shared storage"),
        new("storage.shared-owner", "storage", CheckScope.Node, "Shared storage is owned by nobody:nogroup, and its markers directory only root can change"),
        new("storage.home-owner", "storage", CheckScope.Node, "Home directories are owned by root:root"),
        new("database.provider", "database", CheckScope.Node, "The database is PostgreSQL"),
        new("security.database-conf-mode", "security", CheckScope.Node, "database.conf is root-owned with mode 600"),
        new("security.key-mode", "security", CheckScope.Node, "The secure-cookie-key exists, root-owned with mode 600"),
        new("security.plain-password", "security", CheckScope.Node, "The database password is not plain text"),
        new("network.www-host-name", "network", CheckScope.Node, "www-host-name is set and resolves"),
        new("network.port-range", "network", CheckScope.Node, "The ephemeral port range to open between nodes"),
        new("storage.nfs-options", "storage", CheckScope.Node, "The shared directories are mounted with the guide's NFS options"),
        new("storage.home-directories", "storage", CheckScope.Node, "Users' home directories exist and are on shared storage"),
        new("config.launcher-sessions", "config", CheckScope.Node, "launcher-sessions-enabled agrees with launcher.conf"),
        new("services.rstudio-server", "services", CheckScope.Node, "The rstudio-server service is enabled and active"),
        new("services.rstudio-launcher", "services", CheckScope.Node, "The rstudio-launcher service is enabled and active"),
        new("cluster.nodes-online", "cluster", CheckScope.Cluster, "At least two nodes are online"),
        new("cluster.config-identical", "cluster", CheckScope.Cluster, "/etc/rstudio is identical on every node apart from address keys"),
        new("cluster.key", "cluster", CheckScope.Cluster, "Every node has the same secure-cookie-key"),
        new("cluster.protocol", "cluster", CheckScope.Cluster, "Every node uses the same protocol"),
        new("cluster.version", "cluster", CheckScope.Cluster, "Every node runs the same Workbench version"),
        new("cluster.clock", "cluster", CheckScope.Cluster, "Node clocks agree within the tolerance"),
        new("cluster.users", "cluster", CheckScope.Cluster, "Every node sees the same users with the same UIDs and GIDs"),
        new("cluster.shared-marker", "cluster", CheckScope.Cluster, "Every node reads the markers the others wrote to shared storage"),
        new("network.reachable", "network", CheckScope.Cluster, "Every node's HTTP(S) and launcher ports are reachable from here"),
        new("database.connections", "database", CheckScope.Cluster, "pool-size × nodes fits in PostgreSQL's max_connections"),
        new("cluster.session-spread", "cluster", CheckScope.Cluster, "Sessions are spread across the nodes (the guide's acceptance test)"),
        new("spec.nodes", "spec", CheckScope.Spec, "The registered nodes are the spec's"),
        new("spec.balancer", "spec", CheckScope.Spec, "The balancer is the spec's"),
        new("spec.protocol", "spec", CheckScope.Spec, "The protocol is the spec's"),
        new("spec.database", "spec", CheckScope.Spec, "database.conf points at the spec's database"),
        new("spec.shared-storage", "spec", CheckScope.Spec, "server-shared-storage-path is the spec's"),
        new("loadbalancer.nodes", "loadbalancer", CheckScope.LoadBalancer, "Every cluster node is a backend of the external load balancer"),
        new("loadbalancer.sticky", "loadbalancer", CheckScope.LoadBalancer, "The load balancer keeps a user's requests on one node"),
        new("loadbalancer.websocket", "loadbalancer", CheckScope.LoadBalancer, "The load balancer passes websocket upgrades on"),
        new("loadbalancer.timeout", "loadbalancer", CheckScope.LoadBalancer, "The load balancer's timeouts are at least 60 s"),
        new("loadbalancer.forwarded-headers", "loadbalancer", CheckScope.LoadBalancer, "The load balancer passes the client's URL: X-RStudio-Request, or its scheme and host"),
        new("loadbalancer.distribution", "loadbalancer", CheckScope.LoadBalancer, "The load balancer spreads new users over every node (active/active)"),
    ];

    public static CheckDefinition Get(string id) => All.Single(c => c.Id == id);

    /// <summary>Check ids starting with <paramref name="prefix"/>, for tab completion.</summary>
    public static IEnumerable<string> Complete(string? prefix) =>
        Completion.StartingWith(All.Select(c => c.Id), prefix);
}

namespace WorkbenchAdmin.Core.Verification;

/// <summary>What Test-WbCluster's checks run over: this node, the store's view of the cluster (or why there is none), the spec, the load balancer.</summary>
public sealed class CheckContext
{
    public required NodeContext Node { get; init; }
    public required ClusterAccess Cluster { get; init; }
    /// <summary>Null when no spec is given (the spec checks are then not selected).</summary>
    public ClusterSpec? Spec { get; init; }
    /// <summary>The external load balancer's configuration file or http(s) URL; null when none is named (its checks are then not selected).</summary>
    public string? LoadBalancer { get; init; }
    /// <summary>Signalled when the user stops the command: every wait watches it.</summary>
    public CancellationToken Cancellation { get; init; }
}

/// <summary>
/// A check's implementation, bound to its definition in <see cref="CheckCatalog"/> (the public list of ids, areas and
/// titles, in WorkbenchAdmin.Model where PowerShell reads it). Each class of checks lists its own next to the code;
/// <see cref="CheckRegistry"/> gathers them.
/// </summary>
public sealed class Check
{
    private readonly Func<CheckContext, IEnumerable<CheckResult>> _run;

    private Check(CheckDefinition definition, Func<CheckContext, IEnumerable<CheckResult>> run)
    {
        Definition = definition;
        _run = run;
    }

    public CheckDefinition Definition { get; }

    public IEnumerable<CheckResult> Run(CheckContext context) => _run(context);

    /// <summary>A check of this node's configuration root.</summary>
    internal static Check Node(string id, Func<CheckDefinition, NodeContext, IEnumerable<CheckResult>> run) =>
        Define(id, CheckScope.Node, d => x => run(d, x.Node));

    /// <summary>A check across the nodes, through the store: could not be checked when the store was not read.</summary>
    internal static Check Cluster(string id, Func<CheckDefinition, ClusterContext, IEnumerable<CheckResult>> run) =>
        Define(id, CheckScope.Cluster, d => x => x.Cluster.Context is { } cluster ? run(d, cluster) : [x.Cluster.Unchecked(d)]);

    /// <summary>A comparison with the cluster spec.</summary>
    internal static Check Spec(string id, Func<CheckDefinition, ClusterSpec, NodeContext, ClusterAccess, IEnumerable<CheckResult>> run) =>
        Define(id, CheckScope.Spec, d => x => run(d, x.Spec ?? throw new InvalidOperationException($"{id} runs only with a spec."), x.Node, x.Cluster));

    /// <summary>A check of the external load balancer (implemented in Proxies, see <see cref="Proxies.LoadBalancerCheckSet"/>).</summary>
    internal static Check LoadBalancer(string id) =>
        Define(id, CheckScope.LoadBalancer, d => x => LoadBalancerVerifier.InCluster(d, x));

    private static Check Define(string id, CheckScope scope, Func<CheckDefinition, Func<CheckContext, IEnumerable<CheckResult>>> run)
    {
        var definition = CheckCatalog.All.FirstOrDefault(c => c.Id == id)
            ?? throw new InvalidOperationException($"The check '{id}' is not in CheckCatalog (WorkbenchAdmin.Model): add its definition there.");
        if (definition.Scope != scope)
            throw new InvalidOperationException($"The check '{id}' is a {definition.Scope} check in CheckCatalog but implemented as a {scope} one.");
        return new Check(definition, run(definition));
    }
}

/// <summary>Every check's implementation, by id, from the lists each class of checks keeps next to its code.</summary>
public static class CheckRegistry
{
    private static readonly Dictionary<string, Check> ById = Build();

    /// <summary>Every registered check, in the order the classes list them.</summary>
    public static IEnumerable<Check> Registered =>
        NodeChecks.All.Concat(GuideNodeChecks.All).Concat(ClusterChecks.All).Concat(SpecChecks.All)
            .Concat(Proxies.LoadBalancerCheckSet.Ids.Select(Check.LoadBalancer));

    /// <summary>The implementation of a catalog check; an id with none is refused, never run as another.</summary>
    public static Check Of(CheckDefinition definition) =>
        ById.TryGetValue(definition.Id, out var check) && check.Definition == definition ? check
            : throw new ArgumentException($"'{definition.Id}' is not a registered check.", nameof(definition));

    private static Dictionary<string, Check> Build()
    {
        var byId = new Dictionary<string, Check>(StringComparer.Ordinal);
        foreach (var check in Registered)
            if (!byId.TryAdd(check.Definition.Id, check))
                throw new InvalidOperationException($"The check '{check.Definition.Id}' is registered twice.");
        return byId;
    }
}

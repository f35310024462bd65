using WorkbenchAdmin.Core.Balancing.Custom;

namespace WorkbenchAdmin.Core.Balancing;

/// <summary>What a policy may be configured with. Each policy reads what it needs and validates it.</summary>
public sealed record PolicyOptions
{
    public static readonly PolicyOptions Default = new();
    /// <summary>custom: the script and its limits.</summary>
    public BalancerScriptOptions? Script { get; init; }
    /// <summary>bounded-hash: no node above this factor × the average sessions per eligible node.</summary>
    public double? BalanceFactor { get; init; }
}

/// <summary>
/// The one registry of balancing policies, picked by name. Workbench's four methods (valid for
/// <c>balancer=</c>) and ours, which only the module's own balancer program runs. Adding a policy is one
/// class with a Name, a Create(PolicyOptions) and an Explain, plus a line here.
/// </summary>
public static class BalancingPolicies
{
    private static readonly (string Name, Func<PolicyOptions, IBalancingPolicy> Create)[] Registry =
    [
        (BalancingMethods.Sessions, SessionsPolicy.Create),
        (BalancingMethods.SystemLoad, SystemLoadPolicy.Create),
        (BalancingMethods.UserHash, UserHashPolicy.Create),
        (BalancingMethods.Custom, CustomScriptPolicy.Create),
        (ConsistentHashPolicy.PolicyName, ConsistentHashPolicy.Create),
        (BoundedHashPolicy.PolicyName, BoundedHashPolicy.Create),
    ];

    public static IReadOnlyList<string> Names { get; } = Registry.Select(r => r.Name).ToArray();

    /// <summary>Names starting with <paramref name="prefix"/> (case-insensitive), for tab completion.</summary>
    public static IEnumerable<string> Complete(string? prefix) =>
        Completion.StartingWith(Names, prefix);

    /// <summary>The policy named <paramref name="method"/>; an unknown name is an error, never a default.</summary>
    public static IBalancingPolicy Create(string method, PolicyOptions? options = null)
    {
        var name = method?.Trim().ToLowerInvariant() ?? "";
        foreach (var entry in Registry)
            if (entry.Name == name) return entry.Create(options ?? PolicyOptions.Default);
        throw new WbException("InvalidBalancingMethod", WbErrorCategory.InvalidArgument,
            $"-Method '{SafeText.Quote(method)}' is not a balancing method; use one of {string.Join(", ", Names)}.", method);
    }
}

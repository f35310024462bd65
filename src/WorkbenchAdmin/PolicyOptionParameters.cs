using System.Management.Automation;

namespace WorkbenchAdmin;

/// <summary>
/// The balancing policies' options (see Core.Balancing's PolicyOption), declared once for every cmdlet that builds or
/// configures a policy: Invoke-WbBalanceDecision, New-WbSession, Measure-WbBalancer, Install-WbBalancer and
/// Set-WbBalancerPolicy take them as dynamic parameters from this object. Each property is named for its option's
/// Parameter; its help is in module/help/shared/PolicyOptions.yml. The engine validates and reads the values.
/// </summary>
public sealed class PolicyOptionParameters
{
    /// <summary>bounded-hash: no node above this factor × the average sessions per node.</summary>
    [Parameter]
    public double? BalanceFactor { get; set; }

    /// <summary>The options the user gave, by name (unbound ones left out: the policy's default, or left as they are).</summary>
    internal static IReadOnlyDictionary<string, object?> Bound(InvocationInfo invocation) =>
        typeof(PolicyOptionParameters).GetProperties()
            .Where(p => invocation.BoundParameters.ContainsKey(p.Name))
            .ToDictionary<System.Reflection.PropertyInfo, string, object?>(p => p.Name, p => invocation.BoundParameters[p.Name] is PSObject o ? o.BaseObject : invocation.BoundParameters[p.Name], StringComparer.OrdinalIgnoreCase);
}

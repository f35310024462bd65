using System.Management.Automation;
using WorkbenchAdmin.Completion;

namespace WorkbenchAdmin;

/// <summary>Base of the cmdlets that place users with the balancer: who, and how to balance.</summary>
public abstract class WbBalancingCmdlet : WbStoreCmdlet, IDynamicParameters
{
    private readonly PolicyOptionParameters _policyOptions = new();

    /// <summary>The policies' options (-BalanceFactor, ...), declared once for every cmdlet that builds a policy.</summary>
    public object GetDynamicParameters() => _policyOptions;

    /// <summary>The policy options as bound (unbound ones left out).</summary>
    protected IReadOnlyDictionary<string, object?> PolicyOptionValues => PolicyOptionParameters.Bound(MyInvocation);

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("User")]
    [ValidateNotNullOrEmpty]
    public string[] UserName { get; set; } = [];

    [Parameter]
    [ArgumentCompleter(typeof(BalancingPolicyCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Method { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ScriptPath { get; set; }

    [Parameter]
    public double? TimeoutSec { get; set; }

    [Parameter]
    public SwitchParameter UseIPAddress { get; set; }

    [Parameter]
    public double? OfflineAfterSec { get; set; }

    /// <summary>Every method: a node with this many active sessions is full and skipped.</summary>
    [Parameter]
    public int? MaxSessionsPerNode { get; set; }

    /// <summary>-UseIPAddress when given (either way); null leaves the load-balancer file's setting.</summary>
    protected bool? UseIPAddressIfBound => SwitchIfBound(nameof(UseIPAddress), UseIPAddress);
}

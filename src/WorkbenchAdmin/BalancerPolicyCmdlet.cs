using System.Management.Automation;
using WorkbenchAdmin.Completion;
using WorkbenchAdmin.Core.Commands.Balancer;

namespace WorkbenchAdmin;

/// <summary>Base of Install-WbBalancer and Set-WbBalancerPolicy: the policy the balancer program decides with.</summary>
public abstract class BalancerPolicyCmdlet : WbCmdlet, IDynamicParameters
{
    private readonly PolicyOptionParameters _policyOptions = new();

    /// <summary>The policies' options (-BalanceFactor, ...), declared once for every cmdlet that builds a policy.</summary>
    public object GetDynamicParameters() => _policyOptions;

    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(ProgramPolicyCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Method { get; set; }

    /// <summary>A node with this many active sessions takes no more.</summary>
    [Parameter]
    public int? MaxSessionsPerNode { get; set; }

    /// <summary>Keep users on a node where they already run sessions (-Sticky:$false turns it off).</summary>
    [Parameter]
    public SwitchParameter Sticky { get; set; }

    [Parameter]
    public int? DeadlineMs { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatusUri { get; set; }

    /// <summary>Where the program records drained nodes for when the store does not answer.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StateDirectory { get; set; }

    /// <summary>The Unix socket of the decision service (rserver-balancer --serve) the program asks first.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServiceSocket { get; set; }

    /// <summary>How old the store's view may be when the program decides without its service (0: read it for every decision).</summary>
    [Parameter]
    public int? StoreMaxAgeMs { get; set; }

    /// <summary>Where Workbench runs the custom balancer.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ConfigRoot { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The policy options as bound (unbound ones null: left as they are). Not protected: no engine type in what PowerShell reflects on.</summary>
    private protected BalancerPolicyRequest PolicyRequest() => new()
    {
        ConfigRoot = ResolvePath(ConfigRoot),
        ProgramPath = ResolvePath(Path),
        Method = Method, MaxSessionsPerNode = MaxSessionsPerNode, PolicyOptionValues = PolicyOptionParameters.Bound(MyInvocation), Sticky = SwitchIfBound(nameof(Sticky), Sticky),
        DeadlineMs = DeadlineMs, StatusUri = StatusUri, StateDirectory = ResolvePath(StateDirectory), ServiceSocket = ResolvePath(ServiceSocket),
        StoreMaxAgeMs = StoreMaxAgeMs, PassThru = PassThru,
    };
}

using System.Management.Automation;
using WorkbenchAdmin.Core.Commands.Balancer;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsLifecycle.Install, "WbBalancer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BalancerPolicy))]
public sealed class InstallWbBalancerCommand : BalancerPolicyCmdlet
{
    protected override void ProcessRecord() =>
        Run(host => BalancerPolicyOperations.Install(new InstallBalancerRequest(PolicyRequest())
        {
            ProgramSource = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(typeof(WbCmdlet).Assembly.Location)!, "bin", BalancerPolicyOperations.ProgramFileName),
        }, host));
}

[Cmdlet(VerbsCommon.Set, "WbBalancerPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BalancerPolicy))]
public sealed class SetWbBalancerPolicyCommand : BalancerPolicyCmdlet
{
    protected override void ProcessRecord() =>
        Run(host => BalancerPolicyOperations.Set(PolicyRequest(), host));
}

[Cmdlet(VerbsCommon.Get, "WbBalancerPolicy")]
[OutputType(typeof(BalancerPolicy))]
public sealed class GetWbBalancerPolicyCommand : WbCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ConfigRoot { get; set; }

    /// <summary>Where Workbench runs the custom balancer.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessRecord() =>
        Run(host => BalancerPolicyOperations.Get(new BalancerPolicyRequest { ConfigRoot = ResolvePath(ConfigRoot), ProgramPath = ResolvePath(Path) }, host));
}

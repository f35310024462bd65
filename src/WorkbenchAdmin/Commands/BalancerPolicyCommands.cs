using System.Management.Automation;
using WorkbenchAdmin.Core.Commands.Balancer;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsLifecycle.Install, "WbBalancer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BalancerPolicy))]
public sealed class InstallWbBalancerCommand : BalancerPolicyCmdlet
{
    /// <summary>Leave out the decision service: the decider alone at -Path, no client, no units.</summary>
    [Parameter]
    public SwitchParameter NoService { get; set; }

    /// <summary>Where the decision service's systemd units go (default /etc/systemd/system).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SystemdUnitPath { get; set; }

    protected override void ProcessRecord()
    {
        var bin = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(typeof(WbCmdlet).Assembly.Location)!, "bin");
        var client = System.IO.Path.Combine(bin, Core.Live.FastClient.FileName);
        Run(host => BalancerPolicyOperations.Install(new InstallBalancerRequest(PolicyRequest())
        {
            ProgramSource = System.IO.Path.Combine(bin, BalancerPolicyOperations.ProgramFileName),
            ClientSource = client,
            NoService = NoService,
            SystemdUnitPath = ResolvePath(SystemdUnitPath),
        }, host));
    }
}

[Cmdlet(VerbsLifecycle.Uninstall, "WbBalancer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class UninstallWbBalancerCommand : WbCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ConfigRoot { get; set; }

    /// <summary>Where Workbench runs the custom balancer.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Where Install-WbBalancer wrote the decision service's units.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SystemdUnitPath { get; set; }

    protected override void ProcessRecord() =>
        Run(host => BalancerUninstall.Uninstall(new UninstallBalancerRequest
        {
            ConfigRoot = ResolvePath(ConfigRoot), ProgramPath = ResolvePath(Path), SystemdUnitPath = ResolvePath(SystemdUnitPath),
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

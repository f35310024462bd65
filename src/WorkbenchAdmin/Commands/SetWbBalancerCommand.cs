using System.Management.Automation;
using WorkbenchAdmin.Completion;
using WorkbenchAdmin.Core.Commands.Balancer;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsCommon.Set, "WbBalancer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BalancerSetting))]
public sealed class SetWbBalancerCommand : WbCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(BalancingMethodCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Method { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? WwwHostName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ScriptPath { get; set; }

    [Parameter]
    public SwitchParameter UseIPAddress { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ConfigRoot { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() =>
        Run(host => BalancerOperations.Set(new SetBalancerRequest
        {
            ConfigRoot = ResolvePath(ConfigRoot),
            Method = Method,
            WwwHostName = WwwHostName,
            ScriptPath = ResolvePath(ScriptPath),
            UseIPAddress = SwitchIfBound(nameof(UseIPAddress), UseIPAddress),
            PassThru = PassThru,
        }, host));
}

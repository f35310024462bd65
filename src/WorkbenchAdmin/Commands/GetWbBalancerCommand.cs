using System.Management.Automation;
using WorkbenchAdmin.Core.Commands.Balancer;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsCommon.Get, "WbBalancer")]
[OutputType(typeof(BalancerSetting))]
public sealed class GetWbBalancerCommand : WbCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ConfigRoot { get; set; }

    protected override void ProcessRecord() =>
        Run(host => BalancerOperations.Get(new GetBalancerRequest { ConfigRoot = ResolvePath(ConfigRoot) }, host));
}

using System.Management.Automation;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Decisions;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsDiagnostic.Test, "WbBalancerScript")]
[OutputType(typeof(BalancerScriptTestResult))]
public sealed class TestWbBalancerScriptCommand : WbCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ScriptPath { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? UserName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public NodeCandidate[]? Node { get; set; }

    [Parameter]
    public double? TimeoutSec { get; set; }

    [Parameter]
    public SwitchParameter UseIPAddress { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ConfigRoot { get; set; }

    protected override void ProcessRecord() =>
        Run(host => TestBalancerScriptOperation.Run(new TestBalancerScriptRequest
        {
            ConfigRoot = ResolvePath(ConfigRoot),
            ScriptPath = ResolvePath(ScriptPath),
            UserName = UserName,
            Node = Node,
            TimeoutSec = TimeoutSec,
            UseIPAddress = SwitchIfBound(nameof(UseIPAddress), UseIPAddress),
        }, host));
}

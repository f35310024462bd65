using System.Management.Automation;
using WorkbenchAdmin.Completion;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Balancing;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsLifecycle.Invoke, "WbBalanceDecision")]
[OutputType(typeof(BalanceDecision))]
public sealed class InvokeWbBalanceDecisionCommand : WbStoreCmdlet
{
    private BalanceDecisionOperation? _operation;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("User")]
    [ValidateNotNullOrEmpty]
    public string[] UserName { get; set; } = [];

    [Parameter]
    [ArgumentCompleter(typeof(BalancingMethodCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Method { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public NodeCandidate[]? Node { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ScriptPath { get; set; }

    [Parameter]
    public double? TimeoutSec { get; set; }

    [Parameter]
    public SwitchParameter UseIPAddress { get; set; }

    [Parameter]
    public double? OfflineAfterSec { get; set; }

    protected override void BeginProcessing() =>
        Run(host => _operation = BalanceDecisionOperation.Begin(Connect(new InvokeBalanceDecisionRequest
        {
            Method = Method,
            Node = Node,
            ScriptPath = ScriptPath,
            TimeoutSec = TimeoutSec,
            UseIPAddress = MyInvocation.BoundParameters.ContainsKey(nameof(UseIPAddress)) ? UseIPAddress.IsPresent : null,
            OfflineAfterSec = OfflineAfterSec,
        }), host));

    protected override void ProcessRecord() =>
        Run(host => { foreach (var user in UserName) _operation!.Decide(user, host); });
}

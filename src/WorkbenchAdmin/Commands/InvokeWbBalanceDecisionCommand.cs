using System.Management.Automation;
using WorkbenchAdmin.Completion;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Decisions;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsLifecycle.Invoke, "WbBalanceDecision")]
[OutputType(typeof(BalanceDecision))]
public sealed class InvokeWbBalanceDecisionCommand : WbBalancingCmdlet
{
    private BalanceDecisionOperation? _operation;
    private readonly List<NodeCandidate> _pipedNodes = [];
    private bool _nodesFromPipeline;

    /// <summary>Candidates; from the pipeline, Get-WbNode's output binds here through its Candidate property.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Candidate")]
    [ArgumentCompleter(typeof(NodeAddressCompleter))]
    [ValidateNotNullOrEmpty]
    public NodeCandidate[]? Node { get; set; }

    /// <summary>Keep each user on a node where they already run sessions (from the store), while it is eligible.</summary>
    [Parameter]
    public SwitchParameter Sticky { get; set; }

    protected override void BeginProcessing()
    {
        // Users on the command line and input on the pipeline: the pipeline brings the candidates.
        _nodesFromPipeline = MyInvocation.ExpectingInput && MyInvocation.BoundParameters.ContainsKey(nameof(UserName))
                             && !MyInvocation.BoundParameters.ContainsKey(nameof(Node));
        if (!_nodesFromPipeline) Setup(Node);
    }

    protected override void ProcessRecord()
    {
        if (_nodesFromPipeline) _pipedNodes.AddRange(Node ?? []);
        else Decide();
    }

    protected override void EndProcessing()
    {
        if (!_nodesFromPipeline) return;
        Setup(_pipedNodes);
        Decide();
    }

    private void Decide() => Run(host => { foreach (var user in UserName) _operation!.Decide(user, host); });

    private void Setup(IReadOnlyList<NodeCandidate>? nodes) =>
        Run(host => _operation = BalanceDecisionOperation.Begin(this.Connect(new InvokeBalanceDecisionRequest
        {
            Method = Method,
            Node = nodes,
            ScriptPath = ResolvePath(ScriptPath),
            TimeoutSec = TimeoutSec,
            PolicyOptionValues = PolicyOptionValues,
            MaxSessionsPerNode = MaxSessionsPerNode,
            Sticky = Sticky,
            UseIPAddress = UseIPAddressIfBound,
            OfflineAfterSec = OfflineAfterSec,
        }), host));
}

using System.Management.Automation;
using WorkbenchAdmin.Completion;
using WorkbenchAdmin.Core.Commands.Decisions;

namespace WorkbenchAdmin.Commands;

/// <summary>Replays one workload (synthetic, a CSV of arrivals, or recorded sessions, piped or read from the store) through each balancing method and compares them.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "WbBalancer", DefaultParameterSetName = Synthetic, SupportsShouldProcess = true)]
[OutputType(typeof(BalancerComparison))]
public sealed class MeasureWbBalancerCommand : WbStoreCmdlet, IDynamicParameters
{
    private readonly PolicyOptionParameters _policyOptions = new();

    /// <summary>The policies' options (-BalanceFactor, ...), declared once for every cmdlet that builds a policy.</summary>
    public object GetDynamicParameters() => _policyOptions;

    private const string Synthetic = "Synthetic", Csv = "Csv", Piped = "Piped", Store = "Store";
    private readonly List<SessionInfo> _sessions = [];

    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(BalancingPolicyCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Method { get; set; }

    [Parameter(ParameterSetName = Synthetic)]
    [ValidateRange(1, 1_000_000)]
    public int UserCount { get; set; } = 200;

    [Parameter(ParameterSetName = Synthetic)]
    [ValidateRange(1, 3660)]
    public int Days { get; set; } = 7;

    [Parameter(ParameterSetName = Synthetic)]
    public int Seed { get; set; } = 1;

    [Parameter(Mandatory = true, ParameterSetName = Csv)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Recorded sessions: Get-WbSession -IncludeEnded piped in.</summary>
    [Parameter(Mandatory = true, ParameterSetName = Piped, ValueFromPipeline = true)]
    [ValidateNotNull]
    public SessionInfo[]? InputObject { get; set; }

    /// <summary>Recorded sessions read from the store (-ConfigRoot's database.conf, or -ConnectionString), ended ones included.</summary>
    [Parameter(Mandatory = true, ParameterSetName = Store)]
    public SwitchParameter Recorded { get; set; }

    [Parameter]
    [ValidateRange(1, 1000)]
    public int? NodeCount { get; set; }

    [Parameter]
    [ValidateRange(1, 4096)]
    public int Cores { get; set; } = 8;

    [Parameter(ParameterSetName = Csv)]
    [Parameter(ParameterSetName = Piped)]
    [Parameter(ParameterSetName = Store)]
    public double SessionCpu { get; set; } = 0.5;

    [Parameter]
    [ValidateNotNull]
    public BalancerEvent[] Event { get; set; } = [];

    [Parameter]
    public int? MaxSessionsPerNode { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ScriptPath { get; set; }

    [Parameter]
    public double? TimeoutSec { get; set; }

    [Parameter]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(15);

    [Parameter]
    public SwitchParameter Detail { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Report { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is not null) _sessions.AddRange(InputObject.Where(s => s is not null));
    }

    protected override void EndProcessing() =>
        Run(host => MeasureBalancerOperation.Run(new MeasureBalancerRequest
        {
            Method = Method,
            Path = ResolvePath(Path),
            Session = ParameterSetName == Piped ? _sessions : null,
            Recorded = ParameterSetName == Store, // the switch is what selects this set (even written -Recorded:$false)
            Store = this.Connect(new Core.Store.StoreRequest()),
            UserCount = UserCount,
            Days = Days,
            Seed = Seed,
            NodeCount = NodeCount,
            Cores = Cores,
            SessionCpu = SessionCpu,
            Event = Event,
            MaxSessionsPerNode = MaxSessionsPerNode,
            PolicyOptionValues = PolicyOptionParameters.Bound(MyInvocation),
            ScriptPath = ResolvePath(ScriptPath),
            TimeoutSec = TimeoutSec,
            Interval = Interval,
            Detail = Detail,
            ReportPath = ResolvePath(Report),
        }, host));
}

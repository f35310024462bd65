using System.Management.Automation;
using WorkbenchAdmin.Completion;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsDiagnostic.Test, "WbCluster")]
[OutputType(typeof(CheckResult), typeof(bool))]
public sealed class TestWbClusterCommand : WbStoreCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(CheckIdCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Check { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Spec { get; set; }

    [Parameter]
    public SwitchParameter Quiet { get; set; }

    [Parameter]
    public double? ClockToleranceSec { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? HomeRoot { get; set; }

    [Parameter]
    public double? OfflineAfterSec { get; set; }

    /// <summary>The external load balancer's configuration file, or its http(s) URL.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LoadBalancer { get; set; }

    protected override void ProcessRecord() => Run(host => TestClusterOperation.Run(this.Connect(new VerifyRequest
    {
        Check = Check,
        SpecPath = ResolvePath(Spec),
        Quiet = Quiet,
        ClockToleranceSec = ClockToleranceSec,
        HomeRoot = ResolvePath(HomeRoot),
        OfflineAfterSec = OfflineAfterSec,
        LoadBalancer = LoadBalancer is null || LoadBalancer.Contains("://", StringComparison.Ordinal) ? LoadBalancer : ResolvePath(LoadBalancer),
    }), host));
}

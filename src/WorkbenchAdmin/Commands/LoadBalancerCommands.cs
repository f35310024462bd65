using System.Management.Automation;
using WorkbenchAdmin.Completion;
using WorkbenchAdmin.Core.Commands.Proxies;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsDiagnostic.Test, "WbLoadBalancer")]
[OutputType(typeof(CheckResult), typeof(bool))]
public sealed class TestWbLoadBalancerCommand : WbStoreCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter]
    [ValidateSet("nginx", "apache", "haproxy")]
    public string? Kind { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Uri { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Node { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(CheckIdCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Check { get; set; }

    [Parameter]
    public double? HoldSec { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ClientAddress { get; set; }

    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord() => Run(host => LoadBalancerOperations.Test(this.Connect(new TestLoadBalancerRequest
    {
        Path = ResolvePath(Path),
        Kind = Kind,
        Uri = Uri,
        Node = Node,
        Check = Check,
        HoldSec = HoldSec,
        ClientAddress = ClientAddress,
        Quiet = Quiet,
    }), host));
}

[Cmdlet(VerbsCommon.New, "WbLoadBalancerConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(string))]
public sealed class NewWbLoadBalancerConfigCommand : WbStoreCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateSet("nginx", "apache", "haproxy")]
    public string Kind { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Node { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    [Parameter]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TlsCertificate { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TlsKey { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ListenAddress { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessRecord() => Run(host => LoadBalancerOperations.New(this.Connect(new NewLoadBalancerConfigRequest
    {
        Kind = Kind,
        Node = Node,
        ServerName = ServerName,
        Port = Port,
        TlsCertificate = ResolvePath(TlsCertificate),
        TlsKey = ResolvePath(TlsKey),
        ListenAddress = ListenAddress,
        Path = ResolvePath(Path),
    }), host));
}

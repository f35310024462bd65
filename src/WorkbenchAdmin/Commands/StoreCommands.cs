using WorkbenchAdmin.Core.Formats;
using System.Management.Automation;
using WorkbenchAdmin.Completion;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;
using static WorkbenchAdmin.Core.Commands.Cluster.ClusterOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.HeartbeatOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.NodeOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.SessionOperations;
using static WorkbenchAdmin.Core.Commands.Cluster.PasswordOperations;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsData.Initialize, "WbDatabase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DatabaseSchemaStatus))]
public sealed class InitializeWbDatabaseCommand : WbStoreCmdlet
{
    protected override void ProcessRecord() => Run(host => Initialize(this.Connect(new StoreRequest()), host));
}

[Cmdlet(VerbsLifecycle.Register, "WbNode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(NodeInfo))]
public sealed class RegisterWbNodeCommand : WbStoreCmdlet
{
    protected override void ProcessRecord() => Run(host => RegisterNode(this.Connect(new NodeRequest()), host));
}

[Cmdlet(VerbsData.Update, "WbNodeStatus", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(NodeInfo))]
public sealed class UpdateWbNodeStatusCommand : WbStoreCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Beat at this interval (seconds) until stopped (Ctrl+C, or systemd stopping the service); a failed beat is a warning.</summary>
    [Parameter]
    public double? EverySec { get; set; }

    protected override void ProcessRecord() => Run(host => UpdateNodeStatus(this.Connect(new NodeRequest { PassThru = PassThru, EverySec = EverySec }), host));
}

[Cmdlet(VerbsLifecycle.Unregister, "WbNode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class UnregisterWbNodeCommand : WbStoreCmdlet
{
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => Run(host => UnregisterNode(this.Connect(new NodeRequest { Force = Force }), host));
}

/// <remarks>
/// Nodes come from the store, or from the running cluster's own view when the heartbeat agent is not deployed:
/// a node's status page (-Uri) or what <c>rstudio-server list-nodes</c> printed (-ListNodesText). The text is not
/// taken from the pipeline: any piped object (a session, say) would bind to it as text.
/// </remarks>
[Cmdlet(VerbsCommon.Get, "WbNode", DefaultParameterSetName = StoreSet)]
[OutputType(typeof(NodeInfo))]
public sealed class GetWbNodeCommand : WbStoreCmdlet
{
    private const string StoreSet = "Store", UriSet = "Uri", ListNodesSet = "ListNodes";

    [Parameter(Position = 0)]
    [Alias("NodeId")]
    [ArgumentCompleter(typeof(NodeIdCompleter))]
    public int[]? Id { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(NodeAddressCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? HostName { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(NodeStatusCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Status { get; set; }

    [Parameter(ParameterSetName = StoreSet)]
    public double? OfflineAfterSec { get; set; }

    /// <summary>A node's status page, such as http://localhost:8787/load-balancer/status.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UriSet)]
    public Uri? Uri { get; set; }

    /// <summary>The lines <c>rstudio-server list-nodes</c> printed: <c>-ListNodesText (rstudio-server list-nodes)</c>.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ListNodesSet)]
    [AllowEmptyString]
    public string[]? ListNodesText { get; set; }

    protected override void ProcessRecord() =>
        Run(host => GetNodes(this.Connect(new GetNodeRequest
        {
            Id = Id, HostName = HostName, Status = Status, OfflineAfterSec = OfflineAfterSec, Uri = Uri,
            ListNodesText = ListNodesText is null ? null : string.Join('\n', ListNodesText),
        }), host));
}

/// <remarks>
/// Node ids bind only from nodes: by hand with -Id, or from the pipeline as NodeInfo objects (-InputObject).
/// No parameter binds an "Id" property by name, so a piped session can never select a node.
/// </remarks>
[Cmdlet(VerbsCommon.Remove, "WbNode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = IdSet)]
[OutputType(typeof(void))]
public sealed class RemoveWbNodeCommand : WbStoreCmdlet
{
    private const string IdSet = "Id", InputSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet)]
    [Alias("NodeId")]
    [ArgumentCompleter(typeof(NodeIdCompleter))]
    public int[] Id { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputSet)]
    [ValidateNotNull]
    public NodeInfo[] InputObject { get; set; } = [];

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var ids = ParameterSetName == InputSet ? InputObject.Select(n => n.Id).ToArray() : Id;
        Run(host => RemoveNode(this.Connect(new RemoveNodeRequest { Id = ids, Force = Force }), host));
    }
}

/// <summary>Base of Suspend-WbNode and Resume-WbNode: which nodes, by id, by address, or piped from Get-WbNode.</summary>
public abstract class WbDrainCmdlet : WbStoreCmdlet
{
    private protected const string IdSet = "Id", HostSet = "HostName", InputSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet)]
    [Alias("NodeId")]
    [ArgumentCompleter(typeof(NodeIdCompleter))]
    public int[] Id { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = HostSet)]
    [ArgumentCompleter(typeof(NodeAddressCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] HostName { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputSet)]
    [ValidateNotNull]
    public NodeInfo[] InputObject { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected abstract bool Draining { get; }

    protected override void ProcessRecord() => Run(host => SetDraining(this.Connect(new DrainNodeRequest
    {
        Id = ParameterSetName == InputSet ? InputObject.Select(n => n.Id).ToArray() : ParameterSetName == IdSet ? Id : null,
        HostName = ParameterSetName == HostSet ? HostName : null,
        Draining = Draining,
        PassThru = PassThru,
    }), host));
}

/// <summary>Drains nodes for maintenance: they take no new sessions, and their running sessions finish.</summary>
[Cmdlet(VerbsLifecycle.Suspend, "WbNode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = IdSet)]
[OutputType(typeof(NodeInfo))]
public sealed class SuspendWbNodeCommand : WbDrainCmdlet
{
    private protected override bool Draining => true;
}

/// <summary>Takes drained nodes back: they take new sessions again.</summary>
[Cmdlet(VerbsLifecycle.Resume, "WbNode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = IdSet)]
[OutputType(typeof(NodeInfo))]
public sealed class ResumeWbNodeCommand : WbDrainCmdlet
{
    private protected override bool Draining => false;
}

[Cmdlet(VerbsCommon.Reset, "WbCluster", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class ResetWbClusterCommand : WbStoreCmdlet
{
    protected override void ProcessRecord() => Run(host => ResetCluster(this.Connect(new StoreRequest()), host));
}

[Cmdlet(VerbsCommon.New, "WbSession", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(SessionInfo))]
public sealed class NewWbSessionCommand : WbBalancingCmdlet
{
    private NewSession? _placer;

    [Parameter]
    [Alias("Pid")]
    public int? ProcessId { get; set; }

    protected override void BeginProcessing() => Run(host => _placer = NewSession.Begin(this.Connect(new NewSessionRequest
    {
        Method = Method,
        ProcessId = ProcessId,
        ScriptPath = ResolvePath(ScriptPath),
        TimeoutSec = TimeoutSec,
            PolicyOptionValues = PolicyOptionValues,
            MaxSessionsPerNode = MaxSessionsPerNode,
        UseIPAddress = UseIPAddressIfBound,
        OfflineAfterSec = OfflineAfterSec,
    }), host));

    protected override void ProcessRecord() => Run(host => { foreach (var user in UserName) _placer!.Place(user, host); });
}

[Cmdlet(VerbsCommon.Get, "WbSession")]
[OutputType(typeof(SessionInfo))]
public sealed class GetWbSessionCommand : WbStoreCmdlet
{
    [Parameter(Position = 0)]
    public long[]? Id { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ActiveUserCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? UserName { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(NodeIdCompleter))]
    public int[]? NodeId { get; set; }

    /// <summary>Nodes piped from Get-WbNode: their sessions.</summary>
    [Parameter(ValueFromPipeline = true)]
    [ValidateNotNull]
    public NodeInfo[]? Node { get; set; }

    [Parameter]
    public SwitchParameter IncludeEnded { get; set; }

    protected override void ProcessRecord()
    {
        var nodeIds = Node is { Length: > 0 } ? Node.Select(n => n.Id).Concat(NodeId ?? []).ToArray() : NodeId;
        Run(host => GetSessions(this.Connect(new GetSessionRequest { Id = Id, UserName = UserName, NodeId = nodeIds, IncludeEnded = IncludeEnded }), host));
    }
}

/// <remarks>Session ids bind only from sessions: by hand with -Id, or from the pipeline as SessionInfo objects (-InputObject).</remarks>
[Cmdlet(VerbsCommon.Remove, "WbSession", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = IdSet)]
[OutputType(typeof(void))]
public sealed class RemoveWbSessionCommand : WbStoreCmdlet
{
    private const string IdSet = "Id", InputSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet)]
    [Alias("SessionId")]
    public long[] Id { get; set; } = [];

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputSet)]
    [ValidateNotNull]
    public SessionInfo[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        var ids = ParameterSetName == InputSet ? InputObject.Select(s => s.Id).ToArray() : Id;
        Run(host => RemoveSession(this.Connect(new RemoveSessionRequest { Id = ids }), host));
    }
}

[Cmdlet(VerbsCommon.Get, "WbSessionLoad", DefaultParameterSetName = StoreSet)]
[OutputType(typeof(NodeSessionLoad), typeof(string))]
public sealed class GetWbSessionLoadCommand : WbStoreCmdlet
{
    private const string StoreSet = "Store", UriSet = "Uri", TextSet = "Text";
    private readonly List<string> _lines = [];

    [Parameter(ParameterSetName = StoreSet)]
    public SwitchParameter Summary { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = UriSet)]
    [ValidateNotNull]
    public Uri? Uri { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = TextSet, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[]? Text { get; set; }

    [Parameter]
    public SwitchParameter AsText { get; set; }

    [Parameter(ParameterSetName = StoreSet)]
    public double? OfflineAfterSec { get; set; }

    protected override void ProcessRecord()
    {
        // Piped text arrives a line (or a block) at a time: gather it and parse once at the end.
        if (ParameterSetName == TextSet) _lines.AddRange(Text ?? []);
    }

    protected override void EndProcessing() => Run(host => GetSessionLoad(this.Connect(new SessionLoadRequest
    {
        Summary = Summary,
        AsText = AsText,
        Uri = Uri,
        Text = ParameterSetName == TextSet ? string.Join("\n", _lines) : null,
        OfflineAfterSec = OfflineAfterSec,
    }), host));
}

[Cmdlet(VerbsSecurity.Protect, "WbDatabasePassword", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = PasswordSet)]
[OutputType(typeof(string))]
public sealed class ProtectWbDatabasePasswordCommand : WbCmdlet
{
    private const string PasswordSet = "Password", CredentialSet = "Credential";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PasswordSet)]
    [ValidateNotNull]
    public System.Security.SecureString? Password { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = CredentialSet)]
    [Credential]
    [ValidateNotNull]
    public PSCredential? Credential { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ConfigRoot { get; set; }

    [Parameter]
    public SwitchParameter Apply { get; set; }

    protected override void ProcessRecord()
    {
        var plain = Credential is not null
            ? Credential.GetNetworkCredential().Password
            : new System.Net.NetworkCredential("", Password).Password;
        Run(host => ProtectPassword(new ProtectPasswordRequest { ConfigRoot = ResolvePath(ConfigRoot), Password = new SecretValue(plain), Apply = Apply }, host));
    }
}

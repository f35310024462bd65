using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Decisions;
using WorkbenchAdmin.Core.Formats;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Commands.Cluster;

public sealed record NewSessionRequest : StoreRequest
{
    public string? Method { get; init; }
    public int? ProcessId { get; init; }
    public string? ScriptPath { get; init; }
    public double? TimeoutSec { get; init; }
    public bool? UseIPAddress { get; init; }
    public IReadOnlyDictionary<string, object?>? PolicyOptionValues { get; init; }
    public int? MaxSessionsPerNode { get; init; }
}

/// <summary>New-WbSession: set up once per pipeline, then one placement per user name.</summary>
public sealed class NewSession
{
    private readonly ClusterStore _store;
    private readonly IBalancingPolicy _policy;
    private readonly NewSessionRequest _request;
    private readonly bool _useIp;
    private readonly BalancingOptions _options;

    private NewSession(ClusterStore store, IBalancingPolicy policy, NewSessionRequest request, bool useIp, BalancingOptions options)
    {
        _options = options;
        _store = store;
        _policy = policy;
        _request = request;
        _useIp = useIp;
    }

    public static NewSession Begin(NewSessionRequest request, ICommandHost host)
    {
        var policy = BalanceDecisionOperation.PolicyFor(request.ConfigRoot, request.Method, request.ScriptPath, request.TimeoutSec, request.UseIPAddress, request.PolicyOptionValues, out var useIp);
        var options = BalanceDecisionOperation.OptionsFor(request.MaxSessionsPerNode);
        _ = request.OfflineAfter; // validate before the first record
        return new NewSession(ClusterOperations.Open(request, host), policy, request, useIp, options);
    }

    public void Place(string userName, ICommandHost host)
    {
        if (!host.ShouldProcess(userName, $"Start a session placed by {_policy.Name}")) return;
        try
        {
            var session = _store.PlaceSession(new PlacementRequest(userName, _policy)
            {
                Pid = _request.ProcessId, OfflineAfter = _request.OfflineAfter, UseIPAddress = _useIp, Options = _options,
            }, host.Cancellation);
            host.WriteVerbose($"{userName} -> {session.Node}: {session.Decision?.Reason}");
            host.WriteObject(session);
        }
        catch (WbException e) when (e.Category is not (WbErrorCategory.ConnectionError or WbErrorCategory.AuthenticationError))
        {
            host.WriteError(e);
        }
    }
}

public sealed record GetSessionRequest : StoreRequest
{
    public IReadOnlyList<long>? Id { get; init; }
    public IReadOnlyList<string>? UserName { get; init; }
    public IReadOnlyList<int>? NodeId { get; init; }
    public bool IncludeEnded { get; init; }
}

public sealed record RemoveSessionRequest : StoreRequest
{
    public required IReadOnlyList<long> Id { get; init; }
}

public sealed record SessionLoadRequest : StoreRequest
{
    public bool Summary { get; init; }
    public bool AsText { get; init; }
    /// <summary>A Workbench node's status page (http://node:8787/load-balancer/status) to read instead of the store.</summary>
    public Uri? Uri { get; init; }
    /// <summary>Status page text to parse instead of the store.</summary>
    public string? Text { get; init; }
}

/// <summary>Sessions: place (New-WbSession), list, end; the load per node, from the store or a node's status page.</summary>
public static class SessionOperations
{
    public static void GetSessions(GetSessionRequest request, ICommandHost host)
    {
        var filter = new SessionFilter { Id = request.Id, UserName = request.UserName, NodeId = request.NodeId, IncludeEnded = request.IncludeEnded };
        foreach (var s in ClusterOperations.Open(request, host).GetSessions(filter, host.Cancellation)) host.WriteObject(s);
    }

    public static void RemoveSession(RemoveSessionRequest request, ICommandHost host)
    {
        var store = ClusterOperations.Open(request, host);
        foreach (var id in request.Id)
        {
            if (!host.ShouldProcess($"session {id}", "End session")) continue;
            if (store.EndSession(id, host.Cancellation) is null)
                host.WriteError(new WbException("SessionNotFound", WbErrorCategory.ObjectNotFound, $"There is no active session with id {id}.", id));
        }
    }

    public static void GetSessionLoad(SessionLoadRequest request, ICommandHost host)
    {
        IReadOnlyList<NodeSessionLoad> loads;
        if (request.Text is not null)
        {
            loads = SessionLoadText.Parse(request.Text);
        }
        else if (request.Uri is not null)
        {
            loads = Live.StatusPageClient.Read(request.Uri, host.Cancellation);
        }
        else
        {
            loads = ClusterOperations.Open(request, host).GetSessionLoad(!request.Summary, request.OfflineAfter, host.Cancellation);
        }
        if (request.AsText) host.WriteObject(SessionLoadText.Format(loads));
        else foreach (var l in loads) host.WriteObject(l);
    }

    /// <summary>
    /// Nodes as a status page shows them: Workbench lists the nodes it balances over, so each is Online, seen
    /// when the page was read. The page has no ids, addresses or cores: those stay unset.
    /// </summary>
    internal static IReadOnlyList<NodeInfo> FromStatusPage(IReadOnlyList<NodeSessionLoad> loads, DateTimeOffset readAt) =>
        loads.Select(l =>
        {
            var address = NodeCandidate.Parse(l.Address);
            return new NodeInfo
            {
                Host = address.Host, Port = address.Port, IPv4Address = address.IPv4Address, Status = NodeStatus.Online, LastSeen = readAt,
                Load1 = l.Load1, Load5 = l.Load5, Load15 = l.Load15, ActiveSessions = l.SessionCount,
            };
        }).ToList();
}

using WorkbenchAdmin.Core.Formats;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Commands.Cluster;

public sealed record GetNodeRequest : StoreRequest
{
    public IReadOnlyList<int>? Id { get; init; }
    public IReadOnlyList<string>? HostName { get; init; }
    public IReadOnlyList<string>? Status { get; init; }
    /// <summary>The cluster's own view instead of the store: a node's status page (http://node:8787/load-balancer/status).</summary>
    public Uri? Uri { get; init; }
    /// <summary>The cluster's own view instead of the store: what <c>rstudio-server list-nodes</c> printed.</summary>
    public string? ListNodesText { get; init; }
}

public sealed record DrainNodeRequest : StoreRequest
{
    public IReadOnlyList<int>? Id { get; init; }
    /// <summary>Host names or host:port addresses, wildcards allowed.</summary>
    public IReadOnlyList<string>? HostName { get; init; }
    /// <summary>True to drain (Suspend-WbNode), false to take new sessions again (Resume-WbNode).</summary>
    public required bool Draining { get; init; }
    public bool PassThru { get; init; }
}

public sealed record RemoveNodeRequest : StoreRequest
{
    public required IReadOnlyList<int> Id { get; init; }
    public bool Force { get; init; }
}

/// <summary>The registered nodes: list, drain, remove, unregister; Reset-WbCluster.</summary>
public static class NodeOperations
{
    /// <summary>
    /// Unregister-WbNode: the node leaves. Its row is removed when load-balancer says delete-node-on-exit=1 (or with
    /// -Force); otherwise it stays registered, marked Offline at once rather than when its heartbeat ages out.
    /// </summary>
    public static void UnregisterNode(NodeRequest request, ICommandHost host)
    {
        var identity = NodeIdentity.FromConfig(Configuration.ConfigRoot.Resolve(request.ConfigRoot), host.WriteVerbose, request.Machine, host.Cancellation);
        var store = ClusterOperations.Open(request, host);
        if (!identity.DeleteNodeOnExit && !request.Force)
        {
            if (!host.ShouldProcess(identity.Address, "Mark node Offline (it stays registered: delete-node-on-exit is not set)")) return;
            host.WriteVerbose($"delete-node-on-exit is not set for {identity.Address}: the node stays registered, marked Offline until it registers again. Use -Force to remove it.");
            if (!store.MarkOffline(identity.Host, identity.Port, host.Cancellation)) host.WriteVerbose($"{identity.Address} was not registered.");
            return;
        }
        if (!host.ShouldProcess(identity.Address, "Remove node and its sessions from the cluster")) return;
        if (!store.RemoveNode(identity.Host, identity.Port, host.Cancellation))
            host.WriteVerbose($"{identity.Address} was not registered.");
    }

    public static void GetNodes(GetNodeRequest request, ICommandHost host)
    {
        var hosts = request.HostName?.Select(h => new Wildcard(h)).ToList();
        var nodes = request.ListNodesText is { } text ? ListNodesText.Parse(text, readAt: DateTimeOffset.UtcNow)
            : request.Uri is { } uri ? SessionOperations.FromStatusPage(Live.StatusPageClient.Read(uri, host.Cancellation), DateTimeOffset.UtcNow)
            : ClusterOperations.Open(request, host).GetNodes(request.OfflineAfter, host.Cancellation);
        foreach (var node in nodes)
        {
            if (request.Id is { Count: > 0 } ids && !ids.Contains(node.Id)) continue;
            if (!Wildcard.AnyMatch(hosts, node.Host) && !Wildcard.AnyMatch(hosts, node.Address)) continue;
            if (request.Status is { Count: > 0 } statuses && !statuses.Contains(node.Status, StringComparer.OrdinalIgnoreCase)) continue;
            host.WriteObject(node);
        }
        foreach (var id in request.Id ?? [])
            if (nodes.All(n => n.Id != id))
                host.WriteError(new WbException("NodeNotFound", WbErrorCategory.ObjectNotFound, $"There is no node with id {id}.", id));
    }

    /// <summary>
    /// Suspend-WbNode and Resume-WbNode: the nodes named by id or address stop or start taking new sessions;
    /// running sessions are untouched. Every placement decided after the change, on any node, honours it.
    /// </summary>
    public static void SetDraining(DrainNodeRequest request, ICommandHost host)
    {
        var store = ClusterOperations.Open(request, host);
        var nodes = store.GetNodes(request.OfflineAfter, host.Cancellation);
        var targets = new List<NodeInfo>();
        foreach (var id in request.Id ?? [])
        {
            if (nodes.FirstOrDefault(n => n.Id == id) is { } node) targets.Add(node);
            else host.WriteError(new WbException("NodeNotFound", WbErrorCategory.ObjectNotFound, $"There is no node with id {id}.", id));
        }
        foreach (var name in request.HostName ?? [])
        {
            var pattern = new Wildcard(name);
            var matches = nodes.Where(n => pattern.IsMatch(n.Host) || pattern.IsMatch(n.Address)).ToList();
            if (matches.Count == 0 && !Wildcard.HasWildcards(name))
                host.WriteError(new WbException("NodeNotFound", WbErrorCategory.ObjectNotFound, $"There is no node '{SafeText.Quote(name)}'.", name));
            targets.AddRange(matches);
        }
        foreach (var node in targets.DistinctBy(n => n.Id))
        {
            var action = request.Draining
                ? $"Drain: take no new sessions (its {node.ActiveSessions} active sessions run on)"
                : "Resume: take new sessions again";
            if (!host.ShouldProcess($"{node.Id} ({node.Address})", action)) continue;
            var now = store.SetDraining(node.Id, request.Draining, request.OfflineAfter, host.Cancellation);
            if (now is null)
            {
                host.WriteError(new WbException("NodeNotFound", WbErrorCategory.ObjectNotFound, $"Node {node.Id} ({node.Address}) was removed meanwhile.", node.Id));
                continue;
            }
            host.WriteVerbose(request.Draining
                ? $"{now.Address} is draining since {now.DrainingSince:u}: {now.ActiveSessions} active sessions; it takes no new ones."
                : $"{now.Address} takes new sessions again.");
            if (request.PassThru) host.WriteObject(now);
        }
    }

    public static void RemoveNode(RemoveNodeRequest request, ICommandHost host)
    {
        // One connection and one read of the nodes for all the ids, however many are piped.
        var store = ClusterOperations.Open(request, host);
        var nodes = store.GetNodes(request.OfflineAfter, host.Cancellation);
        foreach (var id in request.Id)
        {
            var node = nodes.FirstOrDefault(n => n.Id == id);
            if (node is null)
            {
                host.WriteError(new WbException("NodeNotFound", WbErrorCategory.ObjectNotFound, $"There is no node with id {id}.", id));
                continue;
            }
            if (node.Online && !request.Force)
            {
                host.WriteError(new WbException("NodeIsOnline", WbErrorCategory.InvalidOperation,
                    $"Node {node.Id} ({node.Address}) is online with {node.ActiveSessions} active sessions; stop it first, or use -Force.", node));
                continue;
            }
            if (!host.ShouldProcess($"{node.Id} ({node.Address})", $"Remove node and its {node.ActiveSessions} active sessions")) continue;
            store.RemoveNode(node.Id, host.Cancellation);
        }
    }

    public static void ResetCluster(StoreRequest request, ICommandHost host)
    {
        var store = ClusterOperations.Open(request, host);
        if (!host.ShouldProcess(store.Target.Description, "Clear the cluster record (the next node to come online defines the cluster)")) return;
        if (!store.ResetCluster(host.Cancellation)) host.WriteVerbose("There was no cluster record.");
    }
}

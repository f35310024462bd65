using WorkbenchAdmin.Core.Formats;
using System.Collections.Concurrent;
using System.Net.Http;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Decisions;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Commands.Cluster;

/// <summary>How every store cmdlet reaches the database: a configuration root, or overrides.</summary>
/// <remarks>Settable, so the cmdlets' shared base can fill these on any derived request.</remarks>
public record StoreRequest
{
    public string? ConfigRoot { get; set; }
    public string? ConnectionString { get; set; }
    public string? CredentialUserName { get; set; }
    public SecretValue? CredentialPassword { get; set; }
    /// <summary>Seconds without a heartbeat after which a node counts as Offline.</summary>
    public double? OfflineAfterSec { get; set; }

    /// <summary>Printing shows the connection string without its password (derived requests print through this too).</summary>
    protected virtual bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"ConfigRoot = {ConfigRoot}, ConnectionString = {DatabaseTarget.Redact(ConnectionString)}, CredentialUserName = {CredentialUserName}, ");
        builder.Append($"CredentialPassword = {CredentialPassword}, OfflineAfterSec = {OfflineAfterSec}");
        return true;
    }

    internal DatabaseRequest Database => new()
    {
        ConfigRoot = ConfigRoot,
        ConnectionString = ConnectionString,
        UserName = CredentialUserName,
        Password = CredentialPassword,
    };

    internal TimeSpan OfflineAfter
    {
        get
        {
            if (OfflineAfterSec is not { } s) return ClusterStore.DefaultOfflineAfter;
            if (!double.IsFinite(s) || s <= 0)
                throw new WbException("InvalidOfflineAfter", WbErrorCategory.InvalidArgument, $"-OfflineAfterSec {s} must be more than 0.", s);
            return TimeSpan.FromSeconds(s);
        }
    }
}

/// <summary>The cmdlets over the cluster store. Each resolves its target once, then makes one store call.</summary>
public static class ClusterOperations
{
    private static readonly ConcurrentDictionary<string, ClusterStore> Stores = new(StringComparer.Ordinal);

    /// <summary>The store for a request: one per connection string, so concurrent placements share their batching.</summary>
    public static ClusterStore Open(StoreRequest request, ICommandHost host)
    {
        var target = DatabaseTarget.Resolve(request.Database);
        foreach (var warning in target.Warnings) host.WriteWarning(warning);
        host.WriteVerbose($"Using {target.Description}");
        return Stores.GetOrAdd(target.ConnectionString, _ => new ClusterStore(target));
    }

    /// <summary>Forgets every store and disposes its data source (module removal).</summary>
    public static void CloseAll()
    {
        Stores.Clear();
        DataSources.DisposeAll();
    }

    public static void Initialize(StoreRequest request, ICommandHost host)
    {
        var store = Open(request, host); // connects only when used
        if (!host.ShouldProcess(store.Target.Description, $"Create or upgrade the WorkbenchAdmin schema to version {Schema.LatestVersion}")) return;
        var applied = store.Initialize();
        foreach (var m in applied) host.WriteVerbose($"Applied migration {m.Version}: {m.Description}");
        host.WriteObject(new DatabaseSchemaStatus(store.Target.Database, Schema.LatestVersion, applied.Select(m => $"{m.Version}: {m.Description}").ToList()));
    }

    public sealed record NodeRequest : StoreRequest
    {
        public bool PassThru { get; init; }
        public bool Force { get; init; }
        /// <summary>Load averages, cores, clock and version to report instead of this machine's (tests, or a node reporting for itself elsewhere).</summary>
        public NodeReport? Report { get; init; }
        public Verification.VerificationProbes? Probes { get; init; }
        /// <summary>Update-WbNodeStatus -EverySec: beat at this interval until stopped, instead of once.</summary>
        public double? EverySec { get; init; }
    }

    public static void RegisterNode(NodeRequest request, ICommandHost host)
    {
        var identity = NodeIdentity.FromConfig(Configuration.ConfigRoot.Resolve(request.ConfigRoot), host.WriteWarning);
        var store = Open(request, host);
        if (!host.ShouldProcess(identity.Address, $"Register node in {store.Target.Description}")) return;
        var report = request.Report ?? NodeReport.FromMachine();
        var node = store.ReportNode(identity, report, mustExist: false, request.OfflineAfter, Fingerprint(request, identity, report));
        if (node.Status != NodeStatus.Online)
            host.WriteWarning($"Node {node.Address} joined as '{node.Status}': it will not receive sessions. " +
                (node.Status == NodeStatus.InvalidKey ? "Copy the cluster's secure-cookie-key to it, or Reset-WbCluster." : "Use the cluster's protocol (ssl-enabled) on every node."));
        host.WriteObject(node);
    }

    public static void UpdateNodeStatus(NodeRequest request, ICommandHost host)
    {
        if (request.EverySec is { } every)
        {
            RunHeartbeat(request, Interval(every), host);
            return;
        }
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        var identity = NodeIdentity.FromConfig(root, host.WriteVerbose);
        if (!host.ShouldProcess(identity.Address, "Report heartbeat (load, cores, clock, whether rserver answers)")) return;
        Beat(request, root, identity, host);
    }

    private static TimeSpan Interval(double seconds) => double.IsFinite(seconds) && seconds is >= 0.1 and <= 86_400
        ? TimeSpan.FromSeconds(seconds)
        : throw new WbException("InvalidHeartbeatInterval", WbErrorCategory.InvalidArgument, $"-EverySec {seconds} must be from 0.1 to 86400 seconds.", seconds);

    /// <summary>
    /// The heartbeat as a long-lived process (a systemd service rather than a pwsh started by a timer every few
    /// seconds): one beat every <paramref name="every"/>, on a fixed schedule (a slow beat does not shift the
    /// next ones; missed ones are skipped, not bunched), until the command is stopped. A beat that fails (the
    /// database restarting, a configuration file being replaced) is reported as a warning and the next one is
    /// tried on time: a heartbeat that gave up would let a healthy node age out to Offline.
    /// </summary>
    private static void RunHeartbeat(NodeRequest request, TimeSpan every, ICommandHost host)
    {
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        var first = NodeIdentity.FromConfig(root, host.WriteVerbose);
        if (!host.ShouldProcess(first.Address, $"Report heartbeat every {every.TotalSeconds:0.###} s until stopped")) return;
        var cancel = host.Cancellation;
        var interval = (long)(every.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        var due = System.Diagnostics.Stopwatch.GetTimestamp();
        var failures = 0;
        while (true)
        {
            try
            {
                // The identity is read again each beat: a changed key or address is reported, as a restart would.
                Beat(request, root, NodeIdentity.FromConfig(root, host.WriteVerbose), host);
                if (failures > 0) host.WriteWarning($"The heartbeat is reported again after {failures} failed {(failures == 1 ? "beat" : "beats")}.");
                failures = 0;
            }
            catch (Exception e) when (!cancel.IsCancellationRequested && e is WbException or IOException or UnauthorizedAccessException)
            {
                failures++;
                host.WriteWarning($"Heartbeat {failures} in a row failed ({(e as WbException)?.ErrorId ?? e.GetType().Name}): {e.Message} Trying again in {every.TotalSeconds:0.###} s.");
            }
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            due += interval;
            if (due < now) due = now + interval - (now - due) % interval;
            var wait = TimeSpan.FromSeconds((double)(due - now) / System.Diagnostics.Stopwatch.Frequency);
            if (cancel.WaitHandle.WaitOne(wait)) cancel.ThrowIfCancellationRequested();
        }
    }

    private static void Beat(NodeRequest request, ConfigRoot root, NodeIdentity identity, ICommandHost host)
    {
        var store = Open(request, host);
        var report = (request.Report ?? NodeReport.FromMachine()) with { Serving = RserverAnswers(root, identity, request.Probes, host) };
        var node = store.ReportNode(identity, report, mustExist: true, request.OfflineAfter, Fingerprint(request, identity, report));
        if (request.PassThru) host.WriteObject(node);
    }

    private static readonly TimeSpan RserverProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether rserver accepts a connection on its HTTP port (www-address and www-port of rserver.conf; a wildcard
    /// address is reached on loopback): a heartbeat must not keep a stopped or crashed node Online.
    /// </summary>
    private static bool RserverAnswers(ConfigRoot root, NodeIdentity identity, Verification.VerificationProbes? probes, ICommandHost host)
    {
        var rserver = RServerConfig.Load(root);
        var address = rserver.WwwAddress.Trim('[', ']') switch
        {
            "" or "0.0.0.0" => "127.0.0.1",
            "::" => "::1",
            var a => a,
        };
        if ((probes ?? Verification.VerificationProbes.System).CanConnect(address, rserver.WwwPort, RserverProbeTimeout)) return true;
        host.WriteWarning($"rserver is not answering on {NodeCandidate.FormatAddress(address, rserver.WwwPort)} (www-address and www-port in {root.PathOf(ConfigFiles.RServer)}): " +
                          $"{identity.Address} is reported Offline and gets no sessions until it answers.");
        return false;
    }

    /// <summary>The configuration fingerprint a heartbeat publishes for the cross-node checks, and when it was taken.</summary>
    private static FingerprintReport Fingerprint(NodeRequest request, NodeIdentity identity, NodeReport report)
    {
        var taken = System.Diagnostics.Stopwatch.GetTimestamp();
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        try
        {
            return new(Verification.NodeFingerprint.Compute(root, identity.Address, report.Version, request.Probes).ToJson(), taken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Never a stale or partial fingerprint: the heartbeat fails, naming what could not be read.
            throw new WbException("FingerprintFailed", WbErrorCategory.ReadError,
                $"Cannot read the configuration of {identity.Address} to publish its fingerprint: {e.Message}", root.Path, e);
        }
    }

    /// <summary>
    /// Unregister-WbNode: the node leaves. Its row is removed when load-balancer says delete-node-on-exit=1 (or with
    /// -Force); otherwise it stays registered, marked Offline at once rather than when its heartbeat ages out.
    /// </summary>
    public static void UnregisterNode(NodeRequest request, ICommandHost host)
    {
        var identity = NodeIdentity.FromConfig(Configuration.ConfigRoot.Resolve(request.ConfigRoot), host.WriteVerbose);
        var store = Open(request, host);
        if (!identity.DeleteNodeOnExit && !request.Force)
        {
            if (!host.ShouldProcess(identity.Address, "Mark node Offline (it stays registered: delete-node-on-exit is not set)")) return;
            host.WriteVerbose($"delete-node-on-exit is not set for {identity.Address}: the node stays registered, marked Offline until it registers again. Use -Force to remove it.");
            if (!store.MarkOffline(identity.Host, identity.Port)) host.WriteVerbose($"{identity.Address} was not registered.");
            return;
        }
        if (!host.ShouldProcess(identity.Address, "Remove node and its sessions from the cluster")) return;
        if (!store.RemoveNode(identity.Host, identity.Port))
            host.WriteVerbose($"{identity.Address} was not registered.");
    }

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

    public static void GetNodes(GetNodeRequest request, ICommandHost host)
    {
        var hosts = request.HostName?.Select(h => new Wildcard(h)).ToList();
        var nodes = request.ListNodesText is { } text ? ListNodesText.Parse(text, readAt: DateTimeOffset.UtcNow)
            : request.Uri is { } uri ? FromStatusPage(ReadStatusPage(uri), DateTimeOffset.UtcNow)
            : Open(request, host).GetNodes(request.OfflineAfter);
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

    public sealed record DrainNodeRequest : StoreRequest
    {
        public IReadOnlyList<int>? Id { get; init; }
        /// <summary>Host names or host:port addresses, wildcards allowed.</summary>
        public IReadOnlyList<string>? HostName { get; init; }
        /// <summary>True to drain (Suspend-WbNode), false to take new sessions again (Resume-WbNode).</summary>
        public required bool Draining { get; init; }
        public bool PassThru { get; init; }
    }

    /// <summary>
    /// Suspend-WbNode and Resume-WbNode: the nodes named by id or address stop or start taking new sessions;
    /// running sessions are untouched. Every placement decided after the change, on any node, honours it.
    /// </summary>
    public static void SetDraining(DrainNodeRequest request, ICommandHost host)
    {
        var store = Open(request, host);
        var nodes = store.GetNodes(request.OfflineAfter);
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
            var now = store.SetDraining(node.Id, request.Draining, request.OfflineAfter);
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

    public sealed record RemoveNodeRequest : StoreRequest
    {
        public required IReadOnlyList<int> Id { get; init; }
        public bool Force { get; init; }
    }

    public static void RemoveNode(RemoveNodeRequest request, ICommandHost host)
    {
        // One connection and one read of the nodes for all the ids, however many are piped.
        var store = Open(request, host);
        var nodes = store.GetNodes(request.OfflineAfter);
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
            store.RemoveNode(node.Id);
        }
    }

    public static void ResetCluster(StoreRequest request, ICommandHost host)
    {
        var store = Open(request, host);
        if (!host.ShouldProcess(store.Target.Description, "Clear the cluster record (the next node to come online defines the cluster)")) return;
        if (!store.ResetCluster()) host.WriteVerbose("There was no cluster record.");
    }

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
            return new NewSession(Open(request, host), policy, request, useIp, options);
        }

        public void Place(string userName, ICommandHost host)
        {
            if (!host.ShouldProcess(userName, $"Start a session placed by {_policy.Name}")) return;
            try
            {
                var session = _store.PlaceSession(new PlacementRequest(userName, _policy)
                {
                    Pid = _request.ProcessId, OfflineAfter = _request.OfflineAfter, UseIPAddress = _useIp, Options = _options,
                });
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

    public static void GetSessions(GetSessionRequest request, ICommandHost host)
    {
        var filter = new SessionFilter { Id = request.Id, UserName = request.UserName, NodeId = request.NodeId, IncludeEnded = request.IncludeEnded };
        foreach (var s in Open(request, host).GetSessions(filter)) host.WriteObject(s);
    }

    public sealed record RemoveSessionRequest : StoreRequest
    {
        public required IReadOnlyList<long> Id { get; init; }
    }

    public static void RemoveSession(RemoveSessionRequest request, ICommandHost host)
    {
        var store = Open(request, host);
        foreach (var id in request.Id)
        {
            if (!host.ShouldProcess($"session {id}", "End session")) continue;
            if (store.EndSession(id) is null)
                host.WriteError(new WbException("SessionNotFound", WbErrorCategory.ObjectNotFound, $"There is no active session with id {id}.", id));
        }
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

    public static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(15) };

    public static void GetSessionLoad(SessionLoadRequest request, ICommandHost host)
    {
        IReadOnlyList<NodeSessionLoad> loads;
        if (request.Text is not null)
        {
            loads = SessionLoadText.Parse(request.Text);
        }
        else if (request.Uri is not null)
        {
            loads = ReadStatusPage(request.Uri);
        }
        else
        {
            loads = Open(request, host).GetSessionLoad(!request.Summary, request.OfflineAfter);
        }
        if (request.AsText) host.WriteObject(SessionLoadText.Format(loads));
        else foreach (var l in loads) host.WriteObject(l);
    }

    /// <summary>A node's status page, read and parsed; errors name the address.</summary>
    private static IReadOnlyList<NodeSessionLoad> ReadStatusPage(Uri uri)
    {
        if (!SessionLoadText.IsPageAddress(uri))
            throw new WbException("InvalidStatusPageUri", WbErrorCategory.InvalidArgument,
                $"-Uri {uri} is not a node's status page: give an http:// or https:// address, such as http://node1:8787/load-balancer/status.", uri);
        return SessionLoadText.Parse(Fetch(uri), uri.ToString());
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

    private static string Fetch(Uri uri)
    {
        try
        {
            var cancel = Logging.CommandLog.Cancellation;
            using var response = Http.GetAsync(uri, cancel).GetAwaiter().GetResult();
            response.EnsureSuccessStatusCode();
            return response.Content.ReadAsStringAsync(cancel).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !Logging.CommandLog.Cancellation.IsCancellationRequested))
        {
            throw new WbException("StatusPageUnreachable", WbErrorCategory.ConnectionError, $"Cannot read {uri}: {e.Message}", uri, e);
        }
    }

    public sealed record ProtectPasswordRequest
    {
        public string? ConfigRoot { get; init; }
        public required SecretValue Password { get; init; }
        public bool Apply { get; init; }
    }

    /// <summary>
    /// Protect-WbDatabasePassword: encrypts with this node's secure-cookie-key; -Apply stores it as password= in
    /// the database config file rserver.conf names, and takes any password out of connection-uri (Workbench
    /// uses password= over the URI's, and the URI's would stay there in plain text).
    /// </summary>
    public static void ProtectPassword(ProtectPasswordRequest request, ICommandHost host)
    {
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        var rserver = RServerConfig.Load(root);
        var key = SecureCookieKey.Locate(root, rserver);
        if (key.Path is null)
            throw new WbException("SecureCookieKeyMissing", WbErrorCategory.ObjectNotFound,
                $"No secure-cookie-key to encrypt with (searched {string.Join(", ", key.Searched)}).", root.Path);
        var value = PasswordProtector.Protect(request.Password.Reveal(), SecureCookieKey.Read(key.Path));
        if (!request.Apply)
        {
            host.WriteObject(value);
            return;
        }
        var path = DatabaseConfig.PathOf(root, rserver.DatabaseConfigFile);
        var changes = new List<ConfigChange> { new(null, "password", value) };
        var action = "Set password (encrypted with the secure-cookie-key)";
        if (root.TryLoad(path, ConfigDialect.Database)?.GetValue(null, "connection-uri") is { } uri && PostgresConnectionUri.HasPassword(uri))
        {
            changes.Add(new ConfigChange(null, "connection-uri", PostgresConnectionUri.WithoutPassword(uri)));
            action += " and take the password out of connection-uri";
            if (PostgresConnectionUri.TryParse(uri)?.Password?.Reveal() is { } previous && previous != request.Password.Reveal())
                host.WriteWarning($"connection-uri in '{path}' held another password than the one given: from now on the one given is used.");
        }
        new ConfigEditor(root).Edit(path, changes, (target, _) => host.ShouldProcess(target, action));
    }
}

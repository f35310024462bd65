using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;

using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Live;

/// <summary>How Workbench called the program, and where it writes.</summary>
public sealed record BalancerInvocation
{
    public string? UserName { get; init; }
    public string? Nodes { get; init; }
    /// <summary>The program's own path: its policy pointer sits beside it.</summary>
    public required string ProgramPath { get; init; }
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    /// <summary>Also sends what goes to <see cref="Error"/> to syslog.</summary>
    public bool Syslog { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Reads the store; replaceable so tests can make it hang.</summary>
    public Func<ConfigRoot, StoreView>? ReadStore { get; init; }
    /// <summary>The data source of a store target, when the caller keeps its own (the decision service: connections kept open).</summary>
    public Func<Store.DatabaseTarget, Npgsql.NpgsqlDataSource>? DataSource { get; init; }
    /// <summary>
    /// Where the store's view is kept between calls (<see cref="StoreSnapshot"/>): the decision service passes the one it
    /// keeps for its lifetime; else one for this call.
    /// </summary>
    public StoreSnapshot? Snapshot { get; init; }
    /// <summary>Ask the decision service first (false in the service itself).</summary>
    public bool AskService { get; init; } = true;
    /// <summary>The fast client asked the service and got no decision (<see cref="FastClient.AskedArgument"/>): why, and for how long.</summary>
    public (TimeSpan Spent, string Problem)? Asked { get; init; }
    /// <summary>
    /// The decision service deciding for a program (or client) that waits half the deadline for it: it decides within that,
    /// so that a late source costs the caller one wait, not a wait and then the decider's own.
    /// </summary>
    public bool ForWaitingClient { get; init; }
    /// <summary>Filled in with how the decision was made, for the decision service's metrics.</summary>
    public DecisionOutcome? Outcome { get; init; }
}

/// <summary>
/// The balancer program Workbench's <c>custom</c> method runs: RSTUDIO_USERNAME and RSTUDIO_NODES in, one entry of
/// RSTUDIO_NODES out, exactly as given. It decides with the policy of <c>workbenchadmin.conf</c> from live data
/// (the status page, the store), all within the policy's deadline. When data is missing or late, or the policy
/// cannot judge with what arrived, it falls back to consistent-hash over RSTUDIO_NODES minus the nodes known
/// to be drained, and says why on stderr and syslog. It fails (exit 1) only when no node may take the session:
/// all drained, or all full. Exit 2: Workbench called it without a usable user or node list. Where the decision
/// service (<see cref="DecisionService"/>) runs, it asks the service first, which runs this same logic with the
/// store's connection kept open, and decides itself when the service does not answer in time.
/// </summary>
public static class BalancerProgram
{
    public const string Tag = "wbadmin-balancer";
    public const int CannotChoose = 1;
    public const int BadInvocation = 2;
    private static readonly TimeSpan DecideReserve = TimeSpan.FromMilliseconds(50);
    /// <summary>The longest line the program writes to stderr or syslog.</summary>
    public const int MaxLineBytes = Platform.Syslog.MaxLineBytes;

    /// <summary>rserver.conf as read for the status page's owners; its defaults when it does not parse (the policy then says so).</summary>
    private static RServerConfig RServerConfigOf(ConfigRoot root)
    {
        try { return RServerConfig.Load(root); }
        catch (WbException) { return RServerConfig.From(null); }
    }

    /// <summary>What went wrong on the way, said once per decision on stderr and syslog.</summary>
    private sealed class Report(BalancerInvocation call)
    {
        public List<string> Problems { get; } = [];

        public void Say(Syslog.Severity severity, string message)
        {
            // One line of bounded size, whatever RSTUDIO_NODES held; syslog's own header is shorter than the room left.
            message = Platform.Syslog.Bound(message.Replace('\n', ' '), MaxLineBytes - Tag.Length - 2);
            call.Error.WriteLine($"{Tag}: {message}");
            if (call.Syslog) Platform.Syslog.Write(Tag, severity, message);
        }

        /// <summary>The problems as " (a; b)" after a message; nothing when there were none.</summary>
        public string Why(string? first = null)
        {
            var all = first is null ? Problems : Problems.Prepend(first);
            return all.Any() ? $" ({string.Join("; ", all)})" : "";
        }
    }

    /// <summary>The decision service's answer, printed as the program's own (its exit code), or null to decide here (the reason noted).</summary>
    private static int? AskService(BalancerInvocation call, BalancerPolicy policy, IReadOnlyList<string> entries, TimeSpan deadline, List<string> problems)
    {
        // Half the deadline at most: if the service fails, the program still has time to read and decide itself.
        var answer = DecisionClient.Ask(policy.ServiceSocket, call.UserName!, call.Nodes!, entries, deadline / 2, out var serviceProblem);
        if (answer is null)
        {
            if (serviceProblem is not null) problems.Add(serviceProblem);
            return null;
        }
        // The service already sent its own messages to syslog.
        call.Error.Write(answer.Error);
        if (answer.Output.Length > 0)
        {
            call.Out.Write(answer.Output);
            call.Out.Write('\n');
        }
        call.Out.Flush();
        return answer.ExitCode;
    }

    /// <summary>
    /// The status page and the store, read side by side until the deadline (less what deciding needs), and the drained
    /// nodes as last recorded (the record brought up to date from the store when it answered). What is missing is noted.
    /// The store's view kept by an earlier call (<see cref="StoreSnapshot"/>) stands in for the store while it is fresh and
    /// the status page gives every entry's sessions: a node's cap is judged on live counts only. Not in the decision
    /// service, whose connection is open: it reads the store live and keeps the view for the calls that go without it.
    /// </summary>
    private static ClusterData ReadClusterData(BalancerInvocation call, BalancerPolicy policy, ConfigRoot root, IReadOnlyList<string> entries,
                                               TimeSpan deadline, long started, List<string> problems)
    {
        var snapshot = call.Snapshot ?? new StoreSnapshot(call.Time);
        var maxAge = TimeSpan.FromMilliseconds(policy.StoreMaxAgeMs);
        string? keptProblem = null;
        var kept = call.DataSource is null ? snapshot.ReadFresh(policy.StateDirectory, root.Path, maxAge, out keptProblem) : null;
        if (keptProblem is not null) problems.Add(keptProblem);
        var budget = deadline - TimeSpan.FromTicks(Math.Min(DecideReserve.Ticks, deadline.Ticks / 5));
        var page = StatusPage.Of(policy.StatusUri, RServerConfigOf(root));
        var reading = call.Time.GetTimestamp();
        SourceResult<IReadOnlyList<NodeSessionLoad>> status;
        SourceResult<StoreView> store;
        if (kept is not null)
        {
            status = ClusterDataReader.ReadStatus(page, budget, started, call.Time);
            if (status.Value is { } blocks && LiveCandidates.CountsEvery(entries, blocks, kept.Nodes)) store = new(kept, null);
            else store = ClusterDataReader.WaitStore(ClusterDataReader.StartStore(root, deadline, call.ReadStore, call.DataSource), budget, started, call.Time);
        }
        else
        {
            // The store's connection is the slowest part: started first, read while the page is.
            (status, store) = ClusterDataReader.Collect(ClusterDataReader.StartStore(root, deadline, call.ReadStore, call.DataSource), page, budget, started, call.Time);
        }
        if (call.Outcome is { } read) read.DataRead = call.Time.GetElapsedTime(reading);
        if (status.Problem is { } sp) problems.Add(sp);
        if (store.Problem is { } stp) problems.Add(stp);
        IReadOnlySet<string>? recorded = null;
        try { recorded = DrainedRecord.Read(policy.StateDirectory); }
        catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException) { problems.Add(e.Message); }
        if (store.Value is { } view && !ReferenceEquals(view, kept))
        {
            try { DrainedRecord.Update(policy.StateDirectory, view.Nodes, recorded); }
            catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"cannot record drained nodes in {policy.StateDirectory}: {e.Message}");
            }
            if (snapshot.Keep(policy.StateDirectory, root.Path, maxAge, view) is { } notKept) problems.Add(notKept);
        }
        else if (recorded is null)
        {
            problems.Add("drained nodes are unknown (no record yet)");
        }
        return new ClusterData { Status = status.Value, StoreNodes = store.Value?.Nodes, StoreLoads = store.Value?.Loads, LastKnownDrained = recorded };
    }

    public static int Run(BalancerInvocation call)
    {
        // The client's wait counts against the deadline: Workbench waits on both.
        var started = call.Time.GetTimestamp() - (long)((call.Asked?.Spent.TotalSeconds ?? 0) * call.Time.TimestampFrequency);
        var report = new Report(call);
        var problems = report.Problems;

        IReadOnlyList<string> entries;
        try
        {
            BalanceEngine.ValidateUserName(call.UserName ?? "", "RSTUDIO_USERNAME");
            entries = LiveCandidates.ParseNodesVariable(call.Nodes);
        }
        catch (WbException e)
        {
            report.Say(Syslog.Severity.Error, e.Message);
            return BadInvocation;
        }

        BalancerPolicy policy;
        ConfigRoot root;
        try
        {
            root = ProgramSettings.ConfigRootOf(call.ProgramPath);
            policy = ProgramSettings.LoadPolicy(root);
        }
        catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException)
        {
            // Without the root, neither the policy nor the store is known: the drain and the cap cannot be honoured.
            report.Say(Syslog.Severity.Error, $"no policy ({e.Message}): without it the program cannot know max-sessions-per-node or the drained nodes, " +
                                              "and it refuses the session rather than risk overloading or draining a node");
            return CannotChoose;
        }
        if (policy.RefusesSessions)
        {
            report.Say(Syslog.Severity.Error, policy.Refused!);
            return CannotChoose;
        }

        var deadline = TimeSpan.FromMilliseconds(policy.DeadlineMs);
        if (call.ForWaitingClient) deadline = deadline / 2 - TimeSpan.FromTicks(Math.Min(DecideReserve.Ticks, deadline.Ticks / 10));
        if (call.Asked is { } asked) problems.Add(asked.Problem);
        // A refused policy is not the service's to apply either: the program decides itself, saying why.
        if (policy.Refused is null && call.AskService && call.Asked is null && AskService(call, policy, entries, deadline, problems) is { } served)
            return served;
        var data = ReadClusterData(call, policy, root, entries, deadline, started, problems);

        LiveCandidateSet candidates;
        try
        {
            candidates = LiveCandidates.Build(entries, data);
        }
        catch (WbException e)
        {
            report.Say(Syslog.Severity.Error, e.Message);
            return BadInvocation;
        }
        problems.AddRange(candidates.Notes);

        return Decide(call, policy, data, candidates, report);
    }

    /// <summary>
    /// Decides with the policy from what was read, or with the fallback (consistent-hash over the nodes not known to be
    /// drained) when the data or the policy cannot; prints the chosen entry. Exit 1 when no node may take the session.
    /// </summary>
    private static int Decide(BalancerInvocation call, BalancerPolicy policy, ClusterData data, LiveCandidateSet candidates, Report report)
    {
        var engine = new BalanceEngine(call.Time);
        var options = new BalancingOptions { MaxSessionsPerNode = policy.MaxSessionsPerNode };
        var haveData = data.Status is not null || data.StoreNodes is not null;
        BalanceDecision? decision = null;
        string? fallbackWhy = policy.Refused is { } refused ? $"the policy is refused ({refused.TrimEnd('.')})" : haveData ? null : "no live data";
        if (fallbackWhy is null)
        {
            try
            {
                var chosen = BalancingPolicies.Create(policy.Method, BalancingPolicies.OptionsOf(policy), policy.Sticky ? candidates.Sessions : null);
                decision = engine.Decide(chosen, call.UserName!, candidates.Set, options: options);
            }
            catch (WbException e) when (e.ErrorId is WbErrorIds.AllNodesFull or WbErrorIds.AllNodesDraining or WbErrorIds.NoCandidateNode)
            {
                report.Say(Syslog.Severity.Error, e.Message + report.Why());
                return CannotChoose;
            }
            catch (WbException e)
            {
                fallbackWhy = $"{policy.Method} cannot decide: {e.Message}";
            }
        }
        if (call.Outcome is { } outcome)
        {
            outcome.Method = policy.Method;
            outcome.Fallback = fallbackWhy is null ? null : policy.Refused is not null ? DecisionOutcome.PolicyRefused : haveData ? DecisionOutcome.MethodCannotDecide : DecisionOutcome.NoLiveData;
        }
        if (decision is null)
        {
            try
            {
                decision = engine.Decide(BalancingPolicies.Create(BalancingPolicies.FallbackMethod), call.UserName!, candidates.Set, options: options);
            }
            catch (WbException e)
            {
                report.Say(Syslog.Severity.Error, e.Message + report.Why(fallbackWhy));
                return CannotChoose;
            }
            report.Say(Syslog.Severity.Warning, $"{fallbackWhy}{report.Why()}: " +
                                                $"{BalancingPolicies.FallbackMethod} chose {candidates.Entries[decision.ChosenIndex]} for {call.UserName}");
        }
        else if (report.Problems.Count > 0)
        {
            report.Say(Syslog.Severity.Notice, $"decided with {decision.Method} from partial data{report.Why()}");
        }

        call.Out.Write(candidates.Entries[decision.ChosenIndex]);
        call.Out.Write('\n');
        call.Out.Flush();
        return 0;
    }
}

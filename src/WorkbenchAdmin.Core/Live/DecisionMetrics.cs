using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace WorkbenchAdmin.Core.Live;

/// <summary>How one decision was made, as <see cref="BalancerProgram.Run"/> fills it in for the decision service.</summary>
public sealed class DecisionOutcome
{
    public const string PolicyRefused = "policy-refused";
    public const string NoLiveData = "no-live-data";
    public const string MethodCannotDecide = "method-cannot-decide";

    /// <summary>The policy's method (null when no policy was read).</summary>
    public string? Method { get; set; }
    /// <summary>Why it fell back to consistent-hash, as one of the constants above; null when it did not.</summary>
    public string? Fallback { get; set; }
    /// <summary>How long the status page and the store took (read at once, under the deadline).</summary>
    public TimeSpan? DataRead { get; set; }
}

/// <summary>The decision service's counts since it started, as Get-WbBalancerPolicy shows them.</summary>
public sealed record DecisionCounts(long Decisions, long Fallbacks, long Refusals, IReadOnlyDictionary<string, long> ByNode);

/// <summary>
/// The decision service's metrics, in Prometheus' text format (version 0.0.4): decisions by policy and by chosen
/// node, fallbacks by reason, refusals by exit code, the time the data sources took and the time a decision took
/// (histograms), and the store connections in use (Npgsql's own <c>db.client.connections.usage</c>). Served on the
/// service's socket (a <see cref="Request"/>; <c>rserver-balancer --metrics</c> prints them).
/// </summary>
public sealed class DecisionMetrics : IDisposable
{
    /// <summary>Asks the service for its metrics (answered exit code 0, output <see cref="Ready"/>, the text after it); decides nothing.</summary>
    public static ReadOnlyMemory<byte> Request { get; } = Encoding.UTF8.GetBytes($"{DecisionProtocol.Version} metrics\n");
    public const string Ready = "metrics";
    public const string Argument = "--metrics";

    /// <summary>The counts in metrics text this class rendered.</summary>
    public static DecisionCounts ParseCounts(string text)
    {
        long decisions = 0, fallbacks = 0, refusals = 0;
        var byNode = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var space = line.LastIndexOf(' ');
            if (line.StartsWith('#') || space < 0 || !double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) continue;
            var count = (long)value;
            if (line.StartsWith("wbadmin_balancer_decisions_total{", StringComparison.Ordinal))
            {
                decisions += count;
                var at = line.IndexOf("node=\"", StringComparison.Ordinal);
                var end = at < 0 ? -1 : line.IndexOf("\"}", at, StringComparison.Ordinal);
                if (end > at) byNode[line[(at + 6)..end]] = byNode.GetValueOrDefault(line[(at + 6)..end]) + count;
            }
            else if (line.StartsWith("wbadmin_balancer_fallbacks_total{", StringComparison.Ordinal)) fallbacks += count;
            else if (line.StartsWith("wbadmin_balancer_refusals_total{", StringComparison.Ordinal)) refusals += count;
        }
        return new DecisionCounts(decisions, fallbacks, refusals, byNode);
    }

    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
    private readonly object _lock = new();
    private readonly Dictionary<(string Policy, string Node), long> _decisions = [];
    private readonly Dictionary<string, long> _fallbacks = [];
    private readonly Dictionary<int, long> _refusals = [];
    private readonly Histogram _decisionSeconds = new();
    private readonly Histogram _dataSeconds = new();
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _connections = [];

    public DecisionMetrics()
    {
        // Npgsql reports its pools' connections (idle, used) as an observable instrument: read at each scrape.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name == "db.client.connections.usage") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<int>((_, value, tags, _) => AddConnections(value, tags));
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) => AddConnections(value, tags));
        _listener.Start();
    }

    private void AddConnections(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
            if (tag.Key is "state" or "db.client.connections.state" && tag.Value is string state)
                _connections[state] = _connections.GetValueOrDefault(state) + value;
    }

    /// <summary>Counts one call the service answered.</summary>
    public void Record(DecisionOutcome outcome, int exitCode, string chosen, TimeSpan took)
    {
        lock (_lock)
        {
            if (exitCode == 0)
            {
                var policy = outcome.Fallback is null ? outcome.Method ?? "unknown" : Balancing.ConsistentHashPolicy.PolicyName;
                _decisions[(policy, chosen)] = _decisions.GetValueOrDefault((policy, chosen)) + 1;
            }
            else
            {
                _refusals[exitCode] = _refusals.GetValueOrDefault(exitCode) + 1;
            }
            if (outcome.Fallback is { } reason) _fallbacks[reason] = _fallbacks.GetValueOrDefault(reason) + 1;
            _decisionSeconds.Observe(took.TotalSeconds);
            if (outcome.DataRead is { } read) _dataSeconds.Observe(read.TotalSeconds);
        }
    }

    public DecisionCounts Counts()
    {
        lock (_lock)
        {
            return new DecisionCounts(_decisions.Values.Sum(), _fallbacks.Values.Sum(), _refusals.Values.Sum(),
                _decisions.GroupBy(d => d.Key.Node, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(d => d.Value), StringComparer.Ordinal));
        }
    }

    /// <summary>The metrics as Prometheus scrapes them.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        lock (_lock)
        {
            _connections.Clear();
            _listener.RecordObservableInstruments();
            Family(text, "wbadmin_balancer_decisions_total", "counter", "Sessions placed by the decision service, by the policy that chose and the node chosen.");
            foreach (var ((policy, node), count) in _decisions.OrderBy(d => d.Key.Policy, StringComparer.Ordinal).ThenBy(d => d.Key.Node, StringComparer.Ordinal))
                Sample(text, "wbadmin_balancer_decisions_total", $"policy=\"{Escape(policy)}\",node=\"{Escape(node)}\"", count);
            Family(text, "wbadmin_balancer_fallbacks_total", "counter", "Decisions that fell back to consistent-hash, by reason.");
            foreach (var reason in new[] { DecisionOutcome.NoLiveData, DecisionOutcome.MethodCannotDecide, DecisionOutcome.PolicyRefused })
                Sample(text, "wbadmin_balancer_fallbacks_total", $"reason=\"{reason}\"", _fallbacks.GetValueOrDefault(reason));
            Family(text, "wbadmin_balancer_refusals_total", "counter", "Calls that placed no session, by exit code (1: no node may take it, 2: a bad call).");
            foreach (var code in new[] { BalancerProgram.CannotChoose, BalancerProgram.BadInvocation })
                Sample(text, "wbadmin_balancer_refusals_total", $"exit_code=\"{code}\"", _refusals.GetValueOrDefault(code));
            _dataSeconds.Write(text, "wbadmin_balancer_data_source_duration_seconds", "Time the status page and the store took to read (at once, under the deadline).");
            _decisionSeconds.Write(text, "wbadmin_balancer_decision_duration_seconds", "Time the service took to answer a call, reads included.");
            Family(text, "wbadmin_balancer_store_connections", "gauge", "The decision service's connections to the cluster store, by state.");
            foreach (var state in new[] { "idle", "used" })
                Sample(text, "wbadmin_balancer_store_connections", $"state=\"{state}\"", _connections.GetValueOrDefault(state));
        }
        return text.ToString();
    }

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, string labels, double value) =>
        text.Append(name).Append('{').Append(labels).Append("} ").Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');

    /// <summary>A label value as the text format requires: backslash, double quote and line feed escaped; no other control character kept.</summary>
    private static string Escape(string value)
    {
        var b = new StringBuilder(value.Length);
        foreach (var c in value)
            b.Append(c switch { '\\' => "\\\\", '"' => "\\\"", '\n' => "\\n", _ when char.IsControl(c) => "?", _ => c.ToString() });
        return b.ToString();
    }

    private sealed class Histogram
    {
        private readonly long[] _counts = new long[Buckets.Length];
        private long _count;
        private double _sum;

        public void Observe(double seconds)
        {
            for (var i = 0; i < Buckets.Length; i++) if (seconds <= Buckets[i]) _counts[i]++;
            _count++;
            _sum += seconds;
        }

        public void Write(StringBuilder text, string name, string help)
        {
            Family(text, name, "histogram", help);
            for (var i = 0; i < Buckets.Length; i++)
                Sample(text, name + "_bucket", $"le=\"{Buckets[i].ToString("R", CultureInfo.InvariantCulture)}\"", _counts[i]);
            Sample(text, name + "_bucket", "le=\"+Inf\"", _count);
            text.Append(name).Append("_sum ").Append(_sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            text.Append(name).Append("_count ").Append(_count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    public void Dispose() => _listener.Dispose();
}

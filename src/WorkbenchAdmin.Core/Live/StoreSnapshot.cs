using System.Text.Json;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Live;

/// <summary>
/// The store's view as last read, kept in the policy's state directory for <c>store-max-age-ms</c> so that the balancer
/// program, deciding without its service, does not open a PostgreSQL connection for every session: on this 2-core VM a
/// connection alone (a backend forked, SCRAM) takes 18 to 22 ms (pgbench -C), seven times a whole bare process start,
/// and a burst of logins would open as many connections as there are logins. The decision service writes it too
/// (every half max age at most), so that when the service dies, the programs that take over find it fresh.
/// What the status page says is still read live for every decision; only the store's part (nodes, drains, cores, the
/// sessions the store records) may be this old. Written atomically, mode 600, never fsynced (a lost copy costs one
/// store read); read only when only root (or we) could have written it, and only for the same configuration root.
/// </summary>
public sealed class StoreSnapshot(TimeProvider time)
{
    public const string FileName = "store-view";
    /// <summary>A view larger than this is not kept (100,000 sessions at about 40 bytes each fit well within it).</summary>
    public const int MaxBytes = 16 * 1024 * 1024;
    private const int Version = 1;

    private long _lastWritten = long.MinValue;

    public static string PathIn(string stateDirectory) => Path.Combine(stateDirectory, FileName);

    /// <summary>
    /// The view written for <paramref name="configRoot"/> at most <paramref name="maxAge"/> ago, or null (absent, too old,
    /// another root's, written in the future); <paramref name="problem"/> says why a copy that is there could not be used
    /// when that is worth a line in the log (not trusted, not readable).
    /// </summary>
    public StoreView? ReadFresh(string stateDirectory, string configRoot, TimeSpan maxAge, out string? problem)
    {
        problem = null;
        if (maxAge <= TimeSpan.Zero) return null;
        var path = PathIn(stateDirectory);
        byte[] content;
        try { content = TrustedPath.ReadFile(path, MaxBytes); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"the store's last view {path} is not read: {e.Message}";
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(content);
            var root = doc.RootElement;
            if (root.GetProperty("version").GetInt32() != Version || root.GetProperty("configRoot").GetString() != configRoot) return null;
            var age = time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("written").GetInt64());
            if (age < TimeSpan.Zero || age > maxAge) return null;
            var nodes = new List<NodeInfo>();
            foreach (var n in root.GetProperty("nodes").EnumerateArray()) nodes.Add(ReadNode(n));
            var loads = new List<NodeSessionLoad>();
            foreach (var l in root.GetProperty("loads").EnumerateArray()) loads.Add(ReadLoad(l));
            return new StoreView(nodes, loads);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            problem = $"the store's last view {path} is not read: it is not one this program wrote ({e.Message})";
            return null;
        }
    }

    /// <summary>
    /// Keeps <paramref name="view"/> for the next calls, unless this instance wrote one less than half
    /// <paramref name="maxAge"/> ago (the decision service reads the store for every call; a copy per call is waste).
    /// Null, or why it could not be written.
    /// </summary>
    public string? Keep(string stateDirectory, string configRoot, TimeSpan maxAge, StoreView view)
    {
        if (maxAge <= TimeSpan.Zero) return null;
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastWritten);
        if (last != long.MinValue && time.GetElapsedTime(last, now) < maxAge / 2) return null;
        // The service decides calls side by side: one of them writes.
        if (Interlocked.CompareExchange(ref _lastWritten, now, last) != last) return null;
        var content = Serialize(configRoot, view, time.GetUtcNow());
        if (content.Length > MaxBytes) return null;
        try
        {
            Directory.CreateDirectory(stateDirectory);
            AtomicFile.Write(PathIn(stateDirectory), content, UnixFileMode.UserRead | UnixFileMode.UserWrite, keepOwnerAndMode: false, durable: false);
        }
        catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException)
        {
            return $"cannot keep the store's view in {stateDirectory}: {e.Message}";
        }
        return null;
    }

    internal static byte[] Serialize(string configRoot, StoreView view, DateTimeOffset written)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("version", Version);
            w.WriteString("configRoot", configRoot);
            w.WriteNumber("written", written.ToUnixTimeMilliseconds());
            w.WriteStartArray("nodes");
            foreach (var n in view.Nodes) WriteNode(w, n);
            w.WriteEndArray();
            w.WriteStartArray("loads");
            foreach (var l in view.Loads) WriteLoad(w, l);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteNode(Utf8JsonWriter w, NodeInfo n)
    {
        w.WriteStartObject();
        w.WriteNumber("id", n.Id);
        w.WriteString("host", n.Host);
        if (n.IPv4Address is { } ip) w.WriteString("ipv4", ip);
        w.WriteNumber("port", n.Port);
        w.WriteString("status", n.Status);
        w.WriteString("lastSeen", n.LastSeen);
        if (n.DrainingSince is { } d) w.WriteString("drainingSince", d);
        w.WriteString("registeredAt", n.RegisteredAt);
        w.WriteNumber("load1", n.Load1);
        w.WriteNumber("load5", n.Load5);
        w.WriteNumber("load15", n.Load15);
        if (n.Cores is { } c) w.WriteNumber("cores", c);
        w.WriteNumber("activeSessions", n.ActiveSessions);
        if (n.Protocol is { } p) w.WriteString("protocol", p);
        if (n.Version is { } v) w.WriteString("version", v);
        if (n.NodeClock is { } clock) w.WriteString("nodeClock", clock);
        w.WriteEndObject();
    }

    private static NodeInfo ReadNode(JsonElement e) => new()
    {
        Id = e.GetProperty("id").GetInt32(),
        Host = e.GetProperty("host").GetString()!,
        IPv4Address = Optional(e, "ipv4")?.GetString(),
        Port = e.GetProperty("port").GetInt32(),
        Status = e.GetProperty("status").GetString()!,
        LastSeen = e.GetProperty("lastSeen").GetDateTimeOffset(),
        DrainingSince = Optional(e, "drainingSince")?.GetDateTimeOffset(),
        RegisteredAt = e.GetProperty("registeredAt").GetDateTimeOffset(),
        Load1 = e.GetProperty("load1").GetDouble(),
        Load5 = e.GetProperty("load5").GetDouble(),
        Load15 = e.GetProperty("load15").GetDouble(),
        Cores = Optional(e, "cores")?.GetInt32(),
        ActiveSessions = e.GetProperty("activeSessions").GetInt32(),
        Protocol = Optional(e, "protocol")?.GetString(),
        Version = Optional(e, "version")?.GetString(),
        NodeClock = Optional(e, "nodeClock")?.GetDateTimeOffset(),
    };

    private static void WriteLoad(Utf8JsonWriter w, NodeSessionLoad l)
    {
        w.WriteStartObject();
        if (l.NodeId is { } id) w.WriteNumber("nodeId", id);
        w.WriteString("address", l.Address);
        w.WriteNumber("load1", l.Load1);
        w.WriteNumber("load5", l.Load5);
        w.WriteNumber("load15", l.Load15);
        if (l.Status is { } status) w.WriteString("status", status);
        w.WriteNumber("sessionCount", l.SessionCount);
        // [pid, "user"] pairs: the bulk of a large cluster's view, kept short.
        w.WriteStartArray("sessions");
        foreach (var s in l.Sessions)
        {
            w.WriteStartArray();
            w.WriteNumberValue(s.Pid);
            w.WriteStringValue(s.UserName);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static NodeSessionLoad ReadLoad(JsonElement e)
    {
        var sessions = new List<SessionEntry>();
        foreach (var s in e.GetProperty("sessions").EnumerateArray())
            sessions.Add(new SessionEntry(s[0].GetInt32(), s[1].GetString()!));
        return new NodeSessionLoad
        {
            NodeId = Optional(e, "nodeId")?.GetInt32(),
            Address = e.GetProperty("address").GetString()!,
            Load1 = e.GetProperty("load1").GetDouble(),
            Load5 = e.GetProperty("load5").GetDouble(),
            Load15 = e.GetProperty("load15").GetDouble(),
            Status = Optional(e, "status")?.GetString(),
            SessionCount = e.GetProperty("sessionCount").GetInt32(),
            Sessions = sessions,
        };
    }

    private static JsonElement? Optional(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}

using System.Globalization;

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>The external load balancers whose configuration we read and write.</summary>
public enum ProxyKind { Nginx, Apache, HAProxy }

/// <summary>Where a directive is: file and line (1-based).</summary>
public sealed record SourceLocation(string File, int Line)
{
    public override string ToString() => $"{File}:{Line.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>A directive of nginx or Apache: its name and arguments (quotes removed), where it is, and its block or section.</summary>
public sealed record ProxyDirective(string Name, IReadOnlyList<string> Args, SourceLocation At, IReadOnlyList<ProxyDirective>? Block)
{
    public string Arg(int i) => i < Args.Count ? Args[i] : "";
    public bool Is(string name) => Name.Equals(name, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// A backend server a route sends requests to. <paramref name="Standby"/> names what makes it a standby one, used
/// only while the active servers are down (nginx and HAProxy "backup", Apache "status=+H" or a higher "lbset"); null
/// for an active server.
/// </summary>
public sealed record ProxyServer(string Host, int Port, SourceLocation At, string? Standby = null)
{
    public string Address => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
    public string Describe() => $"{Address}{(Standby is null ? "" : $" {Standby}")} ({At})";

    /// <summary>
    /// When a route's servers take requests one at a time (a single active server, the others standby), the fact
    /// that it is sticky: every request goes to that server while it is up. Null otherwise.
    /// </summary>
    public static ProxyFact? OneAtATime(string owner, IReadOnlyList<ProxyServer> servers)
    {
        var active = servers.Where(s => s.Standby is null).ToList();
        if (active.Count != 1) return null;
        var standby = servers.Where(s => s.Standby is not null).ToList();
        return new ProxyFact(true, standby.Count == 0
            ? $"{owner} sends every request to its one server, {active[0].Address}"
            : $"{owner} sends every request to {active[0].Address}, its one active server; {string.Join(", ", standby.Select(s => $"{s.Address} ({s.Standby})"))} only while it is down",
            active[0].At);
    }
}

/// <summary>
/// One property of a route as the proxy would behave: good or not, what was seen where, and the proxy-specific fix.
/// <paramref name="Warn"/>: good enough to work, with a caution (a Warn rather than a Pass).
/// </summary>
public sealed record ProxyFact(bool Ok, string Found, SourceLocation? At, string Fix = "", bool Warn = false)
{
    /// <summary>What was found, with its file and line when it comes from a directive (a default has none).</summary>
    public string Describe() => At is null ? Found : $"{Found} ({At})";
}

/// <summary>An idle timeout that applies to Workbench's requests or websockets on a route.</summary>
/// <param name="Note">How the proxy read the value when it is not what it seems ("written 20d: Apache reads whole seconds").</param>
public sealed record ProxyTimeout(string Name, double? Seconds, SourceLocation? At, string Fix, string? Note = null)
{
    /// <summary>Null seconds: no limit.</summary>
    public bool Ok(double minimum) => Seconds is not { } s || s >= minimum;
    public string Describe() =>
        $"{Name} {(Seconds is { } s ? Duration.Format(s) : "unlimited")}{(Note is null ? "" : $" ({Note})")}{(At is null ? " (default)" : $" ({At})")}";
}

/// <summary>
/// One way a request reaches the nodes: an nginx location with proxy_pass, an Apache ProxyPass, a HAProxy
/// frontend's backend. Everything Workbench needs of it, as the proxy would do it, with where it is said.
/// </summary>
public sealed class ProxyRoute
{
    /// <summary>"location / (server :80)", "ProxyPass / balancer://workbench/", "frontend wb → backend nodes".</summary>
    public required string Name { get; init; }
    public required SourceLocation At { get; init; }
    /// <summary>Null when the servers cannot be known from the file (a proxy_pass to a variable): <see cref="ServersUnknown"/> says why.</summary>
    public required IReadOnlyList<ProxyServer> Servers { get; init; }
    public string? ServersUnknown { get; init; }
    /// <summary>How to add a missing node, given its host:port.</summary>
    public required Func<string, string> AddServerFix { get; init; }
    public required ProxyFact Sticky { get; init; }
    public required ProxyFact WebSocket { get; init; }
    public required IReadOnlyList<ProxyTimeout> Timeouts { get; init; }
    public required ProxyFact ForwardedProto { get; init; }
    public required ProxyFact ForwardedHost { get; init; }
    /// <summary>
    /// X-RStudio-Request, else Forwarded, as the proxy sets it (<see cref="OriginalUrl"/>): when set, Workbench reads
    /// the client's URL from it and ignores X-Forwarded-Proto and -Host. Null when neither is set.
    /// </summary>
    public ProxyFact? OriginalUrl { get; init; }
}

/// <summary>What a proxy configuration does, read from its files.</summary>
public sealed class ProxyConfig
{
    public required ProxyKind Kind { get; init; }
    public required string MainFile { get; init; }
    /// <summary>Every file read (the main file and its includes), in reading order.</summary>
    public required IReadOnlyList<string> Files { get; init; }
    public required IReadOnlyList<ProxyRoute> Routes { get; init; }

    /// <summary>The error when a file's kind cannot be told, or -Kind names none: callers tell the file's case from the parameter's.</summary>
    public const string KindUnknownError = "LoadBalancerKindUnknown";

    /// <summary>Reads <paramref name="path"/> as <paramref name="kind"/>, or the kind its content shows.</summary>
    public static ProxyConfig Load(string path, ProxyKind? kind = null)
    {
        var main = ProxyFiles.ReadMain(path);
        return (kind ?? Detect(path, main.Text)) switch
        {
            ProxyKind.Nginx => NginxConfig.Analyze(main),
            ProxyKind.Apache => ApacheConfig.Analyze(main),
            _ => HAProxyConfig.Analyze(main),
        };
    }

    /// <summary>The kind a file is, from its first telling directive.</summary>
    public static ProxyKind Detect(string path, string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            if (line.IndexOf(" #", StringComparison.Ordinal) is > 0 and var hash) line = line[..hash].TrimEnd();
            if (line.StartsWith('<')) return ProxyKind.Apache;
            // nginx ends every directive with ';' or opens a block; the others never do.
            if (line.EndsWith(';') || line.EndsWith('{')) return ProxyKind.Nginx;
            var word = line.Split([' ', '\t'], 2)[0];
            if (word is "global" or "defaults" or "frontend" or "backend" or "listen" or "peers" or "resolvers") return ProxyKind.HAProxy;
            if (char.IsAsciiLetterUpper(word[0])) return ProxyKind.Apache; // Apache's directives are capitalised: ServerRoot, Listen, ProxyPass
        }
        throw new WbException(KindUnknownError, WbErrorCategory.InvalidData,
            $"'{path}' is not recognisably an nginx, Apache httpd or HAProxy configuration; pass -Kind nginx, apache or haproxy.", path);
    }

    public static ProxyKind ParseKind(string value) => value.ToLowerInvariant() switch
    {
        "nginx" => ProxyKind.Nginx,
        "apache" or "httpd" or "apache2" => ProxyKind.Apache,
        "haproxy" => ProxyKind.HAProxy,
        _ => throw new WbException(KindUnknownError, WbErrorCategory.InvalidArgument,
            $"-Kind '{value}' is not one of nginx, apache, haproxy.", value),
    };

    public static readonly IReadOnlyList<string> KindNames = ["nginx", "apache", "haproxy"];
}

/// <summary>Durations as each proxy reads them: nginx, Apache and HAProxy each have their own rules.</summary>
public static class Duration
{
    private const long MsPerDay = 86_400_000;

    /// <summary>
    /// Seconds of an nginx time as ngx_parse_time reads it, or null when nginx refuses it: whole numbers each with a
    /// unit (ms, s, m, h, d, w, M = 30 days, y = 365 days), the larger units first and each at most once, optionally
    /// separated by spaces ("1h30m", "1h 30m"); a number without a unit is seconds. Directives kept in milliseconds
    /// (<paramref name="milliseconds"/>: proxy_read_timeout, proxy_send_timeout) refuse y and M; those kept in
    /// seconds refuse ms.
    /// </summary>
    public static double? Nginx(string text, bool milliseconds = true)
    {
        // nginx's steps, in the order units must come: the next unit must be a later step.
        const int start = 0, year = 1, month = 2, week = 3, day = 4, hour = 5, minute = 6, second = 7, msec = 8, last = 9;
        var step = milliseconds ? month : start;
        long value = 0, total = 0;
        var valid = false;
        var i = 0;
        while (i < text.Length)
        {
            var ch = text[i];
            if (char.IsAsciiDigit(ch))
            {
                if (value > (long.MaxValue - 9) / 10) return null;
                value = value * 10 + (ch - '0');
                valid = true;
                i++;
                continue;
            }
            i++;
            long scale; // in milliseconds
            switch (ch)
            {
                case 'y' when step == start: step = year; scale = 365 * MsPerDay; break;
                case 'M' when step < month: step = month; scale = 30 * MsPerDay; break;
                case 'w' when step < week: step = week; scale = 7 * MsPerDay; break;
                case 'd' when step < day: step = day; scale = MsPerDay; break;
                case 'h' when step < hour: step = hour; scale = 3_600_000; break;
                case 'm' when i < text.Length && text[i] == 's':
                    if (!milliseconds || step >= msec) return null;
                    i++;
                    step = msec;
                    scale = 1;
                    break;
                case 'm' when step < minute: step = minute; scale = 60_000; break;
                case 's' when step < second: step = second; scale = 1000; break;
                // A number followed by a space is seconds, and must be the last unit.
                case ' ' when step < second: step = last; scale = 1000; break;
                default: return null;
            }
            if (value > long.MaxValue / scale || total > long.MaxValue - value * scale) return null;
            total += value * scale;
            value = 0;
            while (i < text.Length && text[i] == ' ') i++;
        }
        if (!valid || value > long.MaxValue / 1000 || total > long.MaxValue - value * 1000) return null;
        total += value * 1000;
        return total / 1000.0;
    }

    /// <summary>
    /// Seconds of a HAProxy time as parse_time_err reads it, or null when HAProxy refuses it: one whole number and an
    /// optional unit (us, ms, s, m, h, d; <paramref name="defaultUnit"/> without one, milliseconds for timeouts), under
    /// 2^31 milliseconds (24.8 days), where its timers overflow. HAProxy 2.6 ignores anything after the unit with a
    /// warning ("1h30m" is 1h; later versions refuse it): <paramref name="read"/> is the part it reads.
    /// </summary>
    public static double? HAProxy(string text, out string read, string defaultUnit = "ms")
    {
        read = text;
        var i = 0;
        long value = 0;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            if (value > int.MaxValue) return null;
            value = value * 10 + (text[i++] - '0');
        }
        if (i == 0) return null;
        var rest = text[i..];
        var unit = rest.Length == 0 ? defaultUnit : new[] { "us", "ms", "s", "m", "h", "d" }.FirstOrDefault(u => rest.StartsWith(u, StringComparison.Ordinal));
        double? factor = unit switch
        {
            "us" => 1e-6, "ms" => 0.001, "s" => 1, "m" => 60, "h" => 3600, "d" => 86400, _ => null,
        };
        if (factor is not { } f) return null;
        read = text[..(i + (rest.Length == 0 ? 0 : unit!.Length))];
        var seconds = value * f;
        return Math.Ceiling(seconds * 1000) >= 2147483648.0 ? null : seconds;
    }

    /// <summary>
    /// Seconds of an Apache timeout (Timeout, ProxyTimeout, a worker's timeout=), which httpd reads with atoi: the
    /// leading whole number, anything after it ignored ("20d" is 20 s, "1.5" is 1 s). <paramref name="exact"/> is false
    /// when something was ignored.
    /// </summary>
    public static long Apache(string text, out bool exact)
    {
        var t = text.TrimStart();
        var i = 0;
        var negative = false;
        if (i < t.Length && t[i] is '+' or '-') negative = t[i++] == '-';
        var digits = i;
        long value = 0;
        while (i < t.Length && char.IsAsciiDigit(t[i]) && value < int.MaxValue) value = value * 10 + (t[i++] - '0');
        exact = i > digits && i == t.Length;
        return negative ? -value : Math.Min(value, int.MaxValue);
    }

    public static string Format(double seconds) => seconds switch
    {
        >= 86400 when seconds % 86400 == 0 => $"{seconds / 86400:0}d",
        >= 3600 when seconds % 3600 == 0 => $"{seconds / 3600:0}h",
        >= 60 when seconds % 60 == 0 => $"{seconds / 60:0}m",
        _ => $"{seconds.ToString("0.###", CultureInfo.InvariantCulture)}s",
    };
}

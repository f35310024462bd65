using System.Globalization;

namespace WorkbenchAdmin.Core.LoadBalancer;

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

/// <summary>A backend server a route sends requests to.</summary>
public sealed record ProxyServer(string Host, int Port, SourceLocation At)
{
    public string Address => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>One property of a route as the proxy would behave: good or not, what was seen where, and the proxy-specific fix.</summary>
public sealed record ProxyFact(bool Ok, string Found, SourceLocation? At, string Fix = "")
{
    /// <summary>What was found, with its file and line when it comes from a directive (a default has none).</summary>
    public string Describe() => At is null ? Found : $"{Found} ({At})";
}

/// <summary>An idle timeout that applies to Workbench's requests or websockets on a route.</summary>
public sealed record ProxyTimeout(string Name, double? Seconds, SourceLocation? At, string Fix)
{
    /// <summary>Null seconds: no limit.</summary>
    public bool Ok(double minimum) => Seconds is not { } s || s >= minimum;
    public string Describe() =>
        $"{Name} {(Seconds is { } s ? Duration.Format(s) : "unlimited")}{(At is null ? " (default)" : $" ({At})")}";
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
}

/// <summary>What a proxy configuration does, read from its files.</summary>
public sealed class ProxyConfig
{
    public required ProxyKind Kind { get; init; }
    public required string MainFile { get; init; }
    /// <summary>Every file read (the main file and its includes), in reading order.</summary>
    public required IReadOnlyList<string> Files { get; init; }
    public required IReadOnlyList<ProxyRoute> Routes { get; init; }

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
        throw new WbException("LoadBalancerKindUnknown", WbErrorCategory.InvalidData,
            $"'{path}' is not recognisably an nginx, Apache httpd or HAProxy configuration; pass -Kind nginx, apache or haproxy.", path);
    }

    public static ProxyKind ParseKind(string value) => value.ToLowerInvariant() switch
    {
        "nginx" => ProxyKind.Nginx,
        "apache" or "httpd" or "apache2" => ProxyKind.Apache,
        "haproxy" => ProxyKind.HAProxy,
        _ => throw new WbException("LoadBalancerKindUnknown", WbErrorCategory.InvalidArgument,
            $"-Kind '{value}' is not one of nginx, apache, haproxy.", value),
    };

    public static readonly string[] KindNames = ["nginx", "apache", "haproxy"];
}

/// <summary>Durations as the proxies write them.</summary>
public static class Duration
{
    /// <summary>
    /// Seconds of a duration such as nginx's "1m30s", "20d", "60" or HAProxy's "30000" (ms by default), or
    /// null when it is not one. <paramref name="defaultUnit"/> is the unit of a bare number.
    /// </summary>
    public static double? Parse(string text, string defaultUnit)
    {
        var total = 0.0;
        var i = 0;
        var any = false;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
            if (i == start || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return null;
            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i])) i++;
            var unit = i > unitStart ? text[unitStart..i] : defaultUnit;
            double? factor = unit switch
            {
                "us" => 1e-6, "ms" => 0.001, "s" => 1, "m" => 60, "h" => 3600, "d" => 86400, "w" => 604800,
                "M" => 2592000, "y" => 31536000, _ => null,
            };
            if (factor is null) return null;
            total += n * factor.Value;
            any = true;
            while (i < text.Length && text[i] == ' ') i++;
        }
        return any ? total : null;
    }

    public static string Format(double seconds) => seconds switch
    {
        >= 86400 when seconds % 86400 == 0 => $"{seconds / 86400:0}d",
        >= 3600 when seconds % 3600 == 0 => $"{seconds / 3600:0}h",
        >= 60 when seconds % 60 == 0 => $"{seconds / 60:0}m",
        _ => $"{seconds.ToString("0.###", CultureInfo.InvariantCulture)}s",
    };
}

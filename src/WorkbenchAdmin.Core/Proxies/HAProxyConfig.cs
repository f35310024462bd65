using System.Text;

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>A HAProxy section (global, defaults, frontend, backend, listen, …) and its lines.</summary>
public sealed record HAProxySection(string Kind, string Name, SourceLocation At, IReadOnlyList<ProxyDirective> Lines, string? From)
{
    public IEnumerable<ProxyDirective> All(string keyword) => Lines.Where(l => l.Name == keyword);
    public ProxyDirective? Last(string keyword, string? firstArg = null) =>
        Lines.LastOrDefault(l => l.Name == keyword && (firstArg is null || l.Arg(0) == firstArg));
}

/// <summary>
/// HAProxy's configuration: sections started by their keyword, lines of words (quotes, backslash escapes,
/// # comments), defaults sections inherited by the proxies after them (or named with "from"), and what the
/// frontends and backends do for Workbench.
/// </summary>
public static class HAProxyConfig
{
    private static readonly HashSet<string> SectionKeywords =
        ["global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist", "mailers", "program", "http-errors", "ring", "cache", "crt-store", "traces"];

    public static IReadOnlyList<HAProxySection> Parse(ProxySource source)
    {
        var sections = new List<HAProxySection>();
        string? kind = null, name = null, from = null;
        SourceLocation? start = null;
        var lines = new List<ProxyDirective>();
        void Close()
        {
            if (kind is not null) sections.Add(new HAProxySection(kind, name ?? "", start!, lines, from));
            lines = [];
        }
        var all = source.Text.Split('\n');
        for (var i = 0; i < all.Length; i++)
        {
            var at = new SourceLocation(source.Path, i + 1);
            var words = Words(all[i].TrimEnd('\r'), at);
            if (words.Count == 0) continue;
            if (SectionKeywords.Contains(words[0]))
            {
                Close();
                kind = words[0];
                name = words.Count > 1 && words[1] != "from" ? words[1] : null;
                var f = words.IndexOf("from");
                from = f >= 0 && f + 1 < words.Count ? words[f + 1] : null;
                start = at;
                continue;
            }
            if (kind is null) throw ProxySyntax.Error(at, $"'{words[0]}' comes before any section (global, defaults, frontend, backend, listen)");
            lines.Add(new ProxyDirective(words[0], words.Skip(1).ToList(), at, null));
        }
        Close();
        return sections;
    }

    private static List<string> Words(string line, SourceLocation at)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == quote) { quote = '\0'; continue; }
                if (c == '\\' && quote == '"' && i + 1 < line.Length) { word.Append(line[++i]); continue; }
                word.Append(c);
                continue;
            }
            if (c == '#') break;
            if (char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(word.ToString()); word.Clear(); inWord = false; }
                continue;
            }
            inWord = true;
            if (c is '"' or '\'') { quote = c; continue; }
            if (c == '\\' && i + 1 < line.Length) { word.Append(line[++i]); continue; }
            word.Append(c);
        }
        if (quote != '\0') throw ProxySyntax.Error(at, $"a string opened with {quote} is not closed");
        if (inWord) words.Add(word.ToString());
        return words;
    }

    /// <summary>What a proxy section takes from its defaults: the defaults' lines first, its own after (so its own win).</summary>
    private static HAProxySection WithDefaults(HAProxySection proxy, IReadOnlyList<HAProxySection> sections)
    {
        var index = sections.ToList().IndexOf(proxy);
        var defaults = proxy.From is { } named
            ? sections.LastOrDefault(s => s.Kind == "defaults" && s.Name == named)
            : sections.Take(index).LastOrDefault(s => s.Kind == "defaults");
        if (defaults is null) return proxy;
        string[] inherited = ["mode", "timeout", "balance", "option", "cookie", "hash-type"];
        return proxy with { Lines = defaults.Lines.Where(l => inherited.Contains(l.Name)).Concat(proxy.Lines).ToList() };
    }

    public static ProxyConfig Analyze(ProxySource main)
    {
        var sections = Parse(main);
        var proxies = sections.Where(s => s.Kind is "frontend" or "backend" or "listen").Select(s => WithDefaults(s, sections)).ToList();
        var backends = proxies.Where(s => s.Kind is "backend" or "listen").GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First());
        var routes = new List<ProxyRoute>();
        foreach (var front in proxies.Where(s => s.Kind is "frontend" or "listen"))
        {
            var targets = new List<(HAProxySection Backend, SourceLocation At)>();
            if (front.Kind == "listen" && front.All("server").Any()) targets.Add((front, front.At));
            foreach (var use in front.Lines.Where(l => l.Name is "default_backend" or "use_backend"))
            {
                if (backends.TryGetValue(use.Arg(0), out var b)) { if (targets.All(t => t.Backend != b)) targets.Add((b, use.At)); }
                else throw ProxySyntax.Error(use.At, $"{use.Name} names '{use.Arg(0)}', which is no backend");
            }
            foreach (var (backend, at) in targets) routes.Add(Route(front, backend, at));
        }
        return new ProxyConfig { Kind = ProxyKind.HAProxy, MainFile = main.Path, Files = [main.Path], Routes = routes };
    }

    private static string Mode(HAProxySection s) => s.Last("mode")?.Arg(0) ?? "tcp";

    private static ProxyRoute Route(HAProxySection front, HAProxySection back, SourceLocation at)
    {
        var label = front == back ? $"listen {front.Name}" : $"frontend {front.Name} → backend {back.Name}";
        var http = Mode(back) == "http" && Mode(front) == "http";
        var servers = new List<ProxyServer>();
        foreach (var s in back.All("server"))
        {
            if (s.Args.Contains("disabled")) continue;
            // A backup server takes requests only while every other one is down.
            if (NginxConfig.SplitHostPort(s.Arg(1), 0) is { Port: > 0 } hp) servers.Add(new ProxyServer(hp.Host, hp.Port, s.At, s.Args.Skip(2).Contains("backup") ? "backup" : null));
        }
        var both = front == back ? front.Lines : front.Lines.Concat(back.Lines).ToList();
        bool Deletes(string header) => both.Any(l => l.Name == "http-request" && l.Arg(0) is "del-header" && l.Arg(1).Equals(header, StringComparison.OrdinalIgnoreCase));
        var deleted = new[] { "Upgrade", "Connection" }.Where(Deletes).ToList();
        var webSocket = deleted.Count > 0
            ? new ProxyFact(false, $"websockets cannot upgrade: http-request del-header {string.Join(", ", deleted)}",
                both.First(l => l.Name == "http-request" && l.Arg(0) == "del-header" && deleted.Contains(l.Arg(1), StringComparer.OrdinalIgnoreCase)).At,
                $"Remove 'http-request del-header {deleted[0]}' ({label}).")
            : new ProxyFact(true, http ? "mode http: HAProxy passes the websocket upgrade on by itself" : "mode tcp: HAProxy passes the bytes on, websockets included",
                back.Last("mode")?.At ?? front.Last("mode")?.At);

        return new ProxyRoute
        {
            Name = label,
            At = at,
            Servers = servers,
            AddServerFix = node => $"Add 'server <name> {node} cookie <name> check' to backend {back.Name} ({back.At}).",
            Sticky = ProxyServer.OneAtATime($"backend {back.Name}", servers) ?? Stickiness(back, http),
            WebSocket = webSocket,
            Timeouts =
            [
                Timeout("timeout client", front, back),
                Timeout("timeout server", back, back),
                Timeout("timeout tunnel", back, back, optional: true),
            ],
            ForwardedProto = ForwardedProto(both, http, $"{front.Kind} {front.Name} ({front.At})", front.At),
            ForwardedHost = both.FirstOrDefault(l => l.Name == "http-request" && l.Arg(0) is "set-header" or "del-header" && l.Arg(1).Equals("Host", StringComparison.OrdinalIgnoreCase)) is { } changed
                ? new ProxyFact(false, $"http-request {changed.Arg(0)} Host: Workbench builds its redirects to another host than the client's", changed.At, $"Remove the line at {changed.At}.")
                : new ProxyFact(true, "HAProxy passes the client's Host header unchanged", null),
            OriginalUrl = http ? OriginalUrl.Judge(OriginalUrl.Vocabulary.HAProxy, Sets(both, OriginalUrl.RStudioRequest), Sets(both, OriginalUrl.Forwarded),
                (header, value) => $"http-request set-header {header} {value}", $"in {front.Kind} {front.Name} ({front.At})") : null,
        };
    }

    /// <summary>The value an http-request set-header (or add-header) line gives a header, the last one winning.</summary>
    private static (string Value, SourceLocation At)? Sets(IReadOnlyList<ProxyDirective> lines, string header) =>
        lines.LastOrDefault(l => l.Name == "http-request" && l.Arg(0) is "set-header" or "add-header" && l.Arg(1).Equals(header, StringComparison.OrdinalIgnoreCase)) is { } line
            ? (line.Arg(2), line.At) : null;

    private static ProxyFact ForwardedProto(IReadOnlyList<ProxyDirective> lines, bool http, string label, SourceLocation frontAt)
    {
        if (!http) return new ProxyFact(true, "mode tcp: the connection reaches Workbench as the client made it (Workbench terminates TLS itself)", null);
        var set = lines.FirstOrDefault(l => l.Name == "http-request" && l.Arg(0) is "set-header" or "add-header" && l.Arg(1).Equals("X-Forwarded-Proto", StringComparison.OrdinalIgnoreCase));
        return set is not null
            ? new ProxyFact(true, $"http-request {set.Arg(0)} X-Forwarded-Proto {set.Arg(2)}", set.At)
            : new ProxyFact(false, "X-Forwarded-Proto is not set (option forwardfor adds only X-Forwarded-For)", frontAt,
                $"Add 'http-request set-header X-Forwarded-Proto https if {{ ssl_fc }}' and 'http-request set-header X-Forwarded-Proto http if !{{ ssl_fc }}' to {label}.");
    }

    private static ProxyFact Stickiness(HAProxySection back, bool http)
    {
        var balance = back.Last("balance");
        if (balance?.Arg(0) == "source") return new ProxyFact(true, $"backend {back.Name}: balance source", balance.At);
        if (back.Lines.FirstOrDefault(l => l.Name is "stick" && l.Arg(0) is "on" or "match") is { } stick)
            return new ProxyFact(true, $"backend {back.Name}: stick {string.Join(' ', stick.Args)}", stick.At);
        if (back.Last("cookie") is { } cookie)
        {
            if (!http) return new ProxyFact(false, $"backend {back.Name} sets cookie {cookie.Arg(0)} in mode tcp, where HAProxy cannot read or set cookies", cookie.At, "Use 'mode http' (or 'balance source' in mode tcp).");
            if (!cookie.Args.Skip(1).Any(a => a is "insert" or "prefix" or "rewrite"))
                return new ProxyFact(false, $"cookie {cookie.Arg(0)} without insert, prefix or rewrite: Workbench sets no such cookie", cookie.At, $"Write 'cookie {cookie.Arg(0)} insert indirect nocache httponly' at {cookie.At}.");
            var without = back.All("server").Where(s => !s.Args.Contains("disabled") && s.Args.ToList().IndexOf("cookie") is var i && (i < 0 || i + 1 >= s.Args.Count)).ToList();
            if (without.Count > 0)
                return new ProxyFact(false, $"cookie {cookie.Arg(0)}, but the server at {string.Join(", ", without.Select(s => s.At))} has no 'cookie <value>', so a session cannot stick to it", without[0].At,
                    "Add 'cookie <a value of its own>' to every server line.");
            return new ProxyFact(true, $"backend {back.Name}: cookie {string.Join(' ', cookie.Args)}", cookie.At);
        }
        return new ProxyFact(false, $"backend {back.Name} balances by {balance?.Arg(0) ?? "roundrobin (the default)"}, without a cookie, balance source or stick on", balance?.At ?? back.At,
            http ? $"Add 'cookie WBNODE insert indirect nocache httponly' to backend {back.Name} ({back.At}) and 'cookie <name>' to each server line, or 'balance source'."
                 : $"Add 'balance source' to backend {back.Name} ({back.At}).");
    }

    /// <summary>A HAProxy timeout in force for a section (its own or its defaults'); unset is no limit (HAProxy warns).</summary>
    private static ProxyTimeout Timeout(string name, HAProxySection section, HAProxySection fixIn, bool optional = false)
    {
        var which = name.Split(' ')[1];
        var line = section.Lines.LastOrDefault(l => l.Name == "timeout" && l.Arg(0) == which);
        var fix = $"Set '{name} 20d' in {fixIn.Kind} {fixIn.Name} ({fixIn.At}) or its defaults (values without a unit are milliseconds; Workbench needs at least 60 s).";
        if (line is null) return new ProxyTimeout(optional ? $"{name} (unset: {(which == "tunnel" ? "client and server apply" : "no limit")})" : name, null, null, fix);
        // HAProxy refuses to start on a time it cannot read: so is the whole configuration.
        var seconds = Duration.HAProxy(line.Arg(1), out var read) ?? throw ProxySyntax.Error(line.At,
            $"timeout {which} '{line.Arg(1)}' is not a HAProxy time, and HAProxy refuses it (one whole number with an optional unit us, ms, s, m, h or d; milliseconds without one; under 24.8 days)");
        return new ProxyTimeout(name, seconds, line.At, fix,
            read == line.Arg(1) ? null : $"written '{line.Arg(1)}': HAProxy 2.6 reads '{read}' and ignores the rest with a warning; later versions refuse it");
    }
}

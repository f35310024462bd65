using System.Text;

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>
/// nginx's configuration: a tokenizer (words, quoted strings, comments, ';', '{', '}'), a parser into
/// directives with blocks, with <c>include</c> expanded in place (globs relative to the main file's directory,
/// as nginx does with -c), and what it means for Workbench's routes.
/// </summary>
public static class NginxConfig
{
    private enum TokenKind { Word, Semicolon, Open, Close }
    private readonly record struct Token(TokenKind Kind, string Text, int Line);

    public static IReadOnlyList<ProxyDirective> Parse(ProxySource main, List<string>? files = null)
    {
        files ??= [];
        return ParseFile(main, Path.GetDirectoryName(main.Path)!, files, [], 0);
    }

    private static List<ProxyDirective> ParseFile(ProxySource source, string baseDirectory, List<string> files, HashSet<string> stack, int depth)
    {
        if (depth > ProxyFiles.MaxIncludeDepth || !stack.Add(source.Path))
            throw ProxySyntax.Error(new SourceLocation(source.Path, 1), "includes itself (an include loop)");
        files.Add(source.Path);
        var tokens = Tokenize(source);
        var position = 0;
        var result = ParseBlock(source, tokens, ref position, baseDirectory, files, stack, depth, opener: null);
        stack.Remove(source.Path);
        return result;
    }

    private static List<ProxyDirective> ParseBlock(ProxySource source, List<Token> tokens, ref int position, string baseDirectory,
        List<string> files, HashSet<string> stack, int depth, SourceLocation? opener)
    {
        var topLevel = opener is null;
        var list = new List<ProxyDirective>();
        while (position < tokens.Count)
        {
            var t = tokens[position];
            if (t.Kind == TokenKind.Close)
            {
                if (topLevel) throw ProxySyntax.Error(new SourceLocation(source.Path, t.Line), "unexpected '}'");
                position++;
                return list;
            }
            if (t.Kind != TokenKind.Word) throw ProxySyntax.Error(new SourceLocation(source.Path, t.Line), $"unexpected '{t.Text}'");
            var at = new SourceLocation(source.Path, t.Line);
            var name = t.Text;
            var args = new List<string>();
            position++;
            while (position < tokens.Count && tokens[position].Kind == TokenKind.Word) args.Add(tokens[position++].Text);
            if (position >= tokens.Count) throw ProxySyntax.Error(at, $"'{name}' is not terminated by ';' or '{{'");
            var end = tokens[position++];
            if (end.Kind == TokenKind.Close) throw ProxySyntax.Error(at, $"'{name}' is not terminated by ';'");
            if (end.Kind == TokenKind.Open)
            {
                var block = ParseBlock(source, tokens, ref position, baseDirectory, files, stack, depth, at);
                list.Add(new ProxyDirective(name, args, at, block));
                continue;
            }
            if (name == "include")
            {
                if (args.Count != 1) throw ProxySyntax.Error(at, "include takes one file name or pattern");
                foreach (var file in ProxyFiles.Expand(args[0], baseDirectory, at, optional: false))
                    list.AddRange(ParseFile(ProxyFiles.Read(file, at), baseDirectory, files, stack, depth + 1));
                continue;
            }
            list.Add(new ProxyDirective(name, args, at, null));
        }
        if (opener is not null) throw ProxySyntax.Error(opener, "this block is not closed by '}'");
        return list;
    }

    private static List<Token> Tokenize(ProxySource source)
    {
        var text = source.Text;
        var tokens = new List<Token>();
        var line = 1;
        var i = 0;
        while (i < text.Length)
        {
            var ch = text[i];
            if (ch == '\n') { line++; i++; continue; }
            if (char.IsWhiteSpace(ch)) { i++; continue; }
            if (ch == '#') { while (i < text.Length && text[i] != '\n') i++; continue; }
            if (ch == ';') { tokens.Add(new(TokenKind.Semicolon, ";", line)); i++; continue; }
            if (ch == '{') { tokens.Add(new(TokenKind.Open, "{", line)); i++; continue; }
            if (ch == '}') { tokens.Add(new(TokenKind.Close, "}", line)); i++; continue; }
            var start = line;
            var word = new StringBuilder();
            if (ch is '"' or '\'')
            {
                var quote = ch;
                i++;
                while (true)
                {
                    if (i >= text.Length) throw ProxySyntax.Error(new SourceLocation(source.Path, start), $"a string opened with {quote} is not closed");
                    var c = text[i];
                    if (c == quote) { i++; break; }
                    if (c == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\'' or '\\') { word.Append(text[i + 1]); i += 2; continue; }
                    if (c == '\n') line++;
                    word.Append(c);
                    i++;
                }
                tokens.Add(new(TokenKind.Word, word.ToString(), start));
                continue;
            }
            var inVariable = false;
            while (i < text.Length)
            {
                var c = text[i];
                // '{' and '}' end a word, except around a variable written ${name}.
                if (inVariable && c == '}') { inVariable = false; word.Append(c); i++; continue; }
                if (char.IsWhiteSpace(c) || c is ';' or '}') break;
                if (c == '{' && !(word.Length > 0 && word[^1] == '$')) break;
                if (c == '{') inVariable = true;
                if (c == '\\' && i + 1 < text.Length) { word.Append(text[i + 1]); i += 2; continue; }
                word.Append(c);
                i++;
            }
            tokens.Add(new(TokenKind.Word, word.ToString(), start));
        }
        return tokens;
    }

    /// <summary>The proxy_* settings in force in a block: each inherited from the enclosing one unless set here.</summary>
    private sealed record Scope(
        (string Value, SourceLocation At)? HttpVersion,
        (string Value, SourceLocation At)? ReadTimeout,
        (string Value, SourceLocation At)? SendTimeout,
        IReadOnlyList<(string Name, string Value, SourceLocation At)> Headers,
        SourceLocation? HeadersAt)
    {
        public static readonly Scope Defaults = new(null, null, null, [], null);

        public Scope Enter(IReadOnlyList<ProxyDirective> block)
        {
            var s = this;
            var headers = block.Where(d => d.Name == "proxy_set_header" && d.Args.Count >= 2).ToList();
            // nginx inherits proxy_set_header only into a block that sets none of its own.
            if (headers.Count > 0) s = s with { Headers = headers.Select(d => (d.Args[0], d.Args[1], d.At)).ToList(), HeadersAt = headers[0].At };
            foreach (var d in block.Where(d => d.Block is null && d.Args.Count > 0))
            {
                s = d.Name switch
                {
                    "proxy_http_version" => s with { HttpVersion = (d.Args[0], d.At) },
                    "proxy_read_timeout" => s with { ReadTimeout = (d.Args[0], d.At) },
                    "proxy_send_timeout" => s with { SendTimeout = (d.Args[0], d.At) },
                    _ => s,
                };
            }
            return s;
        }

        public (string Name, string Value, SourceLocation At)? Header(string name) =>
            Headers.LastOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { Name: not null } h ? h : null;
    }

    public static ProxyConfig Analyze(ProxySource main)
    {
        var files = new List<string>();
        var top = Parse(main, files);
        // A whole nginx.conf has an http block; a file for conf.d or sites-enabled is the http block's content.
        var http = top.Where(d => d.Name == "http" && d.Block is not null).SelectMany(d => d.Block!).ToList();
        if (http.Count == 0) http = top.ToList();
        var upstreams = http.Where(d => d.Name == "upstream" && d.Block is not null).GroupBy(d => d.Arg(0)).ToDictionary(g => g.Key, g => g.First());
        var maps = http.Where(d => d.Name == "map" && d.Block is not null && d.Args.Count >= 2).GroupBy(d => d.Args[1]).ToDictionary(g => g.Key, g => g.First());
        var routes = new List<ProxyRoute>();
        var httpScope = Scope.Defaults.Enter(http);
        foreach (var server in http.Where(d => d.Name == "server" && d.Block is not null))
        {
            var listen = server.Block!.FirstOrDefault(d => d.Name == "listen")?.Arg(0) ?? "80";
            var name = server.Block!.FirstOrDefault(d => d.Name == "server_name")?.Arg(0);
            var label = $"server {(name is null or "" or "_" ? "" : name + " ")}listen {listen}";
            Walk(server.Block!, httpScope.Enter(server.Block!), label, "", routes, upstreams, maps);
        }
        return new ProxyConfig { Kind = ProxyKind.Nginx, MainFile = main.Path, Files = files, Routes = routes };
    }

    private static void Walk(IReadOnlyList<ProxyDirective> block, Scope scope, string server, string where,
        List<ProxyRoute> routes, Dictionary<string, ProxyDirective> upstreams, Dictionary<string, ProxyDirective> maps)
    {
        if (block.LastOrDefault(d => d.Name == "proxy_pass" && d.Block is null) is { } pass)
            routes.Add(Route(pass, scope, where.Length == 0 ? server : $"{where.Trim()} ({server})", upstreams, maps));
        foreach (var inner in block.Where(d => d.Block is not null && d.Name is "location" or "if" or "limit_except"))
            Walk(inner.Block!, scope.Enter(inner.Block!), server, $"{where} {inner.Name} {string.Join(' ', inner.Args)}", routes, upstreams, maps);
    }

    private static ProxyRoute Route(ProxyDirective pass, Scope scope, string name, Dictionary<string, ProxyDirective> upstreams, Dictionary<string, ProxyDirective> maps)
    {
        var target = pass.Arg(0);
        var https = target.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        var rest = target.Contains("://", StringComparison.Ordinal) ? target[(target.IndexOf("://", StringComparison.Ordinal) + 3)..] : target;
        var hostPort = rest.Split('/', 2)[0];
        var at = pass.At;
        List<ProxyServer>? servers = null;
        string? unknown = null;
        ProxyFact sticky;
        Func<string, string> addFix;
        if (hostPort.Contains('$'))
        {
            unknown = $"proxy_pass {target} names its servers through a variable";
            sticky = new ProxyFact(false, unknown + ": whether they are sticky cannot be read", at, "Proxy to an upstream block that lists the nodes, with ip_hash;.");
            addFix = node => $"Proxy to an upstream block that lists {node}.";
        }
        else if (upstreams.TryGetValue(hostPort, out var upstream))
        {
            servers = [];
            foreach (var s in upstream.Block!.Where(d => d.Name == "server" && d.Args.Count > 0))
            {
                if (s.Args.Contains("down") || s.Arg(0).StartsWith("unix:", StringComparison.Ordinal)) continue;
                // A backup server takes requests only while every other one is down.
                if (SplitHostPort(s.Arg(0), https ? 443 : 80) is { } hp) servers.Add(new ProxyServer(hp.Host, hp.Port, s.At, s.Args.Skip(1).Contains("backup") ? "backup" : null));
            }
            sticky = ProxyServer.OneAtATime($"upstream {upstream.Arg(0)}", servers) ?? UpstreamStickiness(upstream);
            addFix = node => $"Add 'server {node};' to upstream {upstream.Arg(0)} ({upstream.At}).";
        }
        else
        {
            servers = SplitHostPort(hostPort, https ? 443 : 80) is { } hp ? [new ProxyServer(hp.Host, hp.Port, at)] : [];
            sticky = new ProxyFact(true, $"proxy_pass {target} sends every request to one server", at);
            addFix = node => $"Define 'upstream workbench {{ ip_hash; server {node}; … }}' with every node and set 'proxy_pass http://workbench;' at {at}.";
        }
        return new ProxyRoute
        {
            Name = $"{name}: proxy_pass {target}",
            At = at,
            Servers = servers ?? [],
            ServersUnknown = unknown,
            AddServerFix = addFix,
            Sticky = sticky,
            WebSocket = WebSocket(scope, at, maps),
            Timeouts =
            [
                Timeout("proxy_read_timeout", scope.ReadTimeout, at),
                Timeout("proxy_send_timeout", scope.SendTimeout, at),
            ],
            ForwardedProto = scope.Header("X-Forwarded-Proto") is { } proto
                ? new ProxyFact(true, $"proxy_set_header X-Forwarded-Proto {proto.Value}", proto.At)
                : new ProxyFact(false, "neither X-RStudio-Request nor X-Forwarded-Proto is set" + Replaced(scope), scope.HeadersAt ?? at,
                    $"Add '{OriginalUrl.Vocabulary.Nginx.Example}' (Posit's preferred header) or 'proxy_set_header X-Forwarded-Proto $scheme;' beside the other proxy_set_header lines that apply at {at}."),
            ForwardedHost = HostFact(scope, at),
            OriginalUrl = OriginalUrl.Judge(OriginalUrl.Vocabulary.Nginx, Sent(scope, OriginalUrl.RStudioRequest), Sent(scope, OriginalUrl.Forwarded),
                (header, value) => $"proxy_set_header {header} {value}", $"beside the other proxy_set_header lines that apply at {at}"),
        };
    }

    /// <summary>A header the proxy sends, with its value; nginx does not send one set to an empty value.</summary>
    private static (string Value, SourceLocation At)? Sent(Scope scope, string header) =>
        scope.Header(header) is { Value.Length: > 0 } h ? (h.Value, h.At) : null;

    private static string Replaced(Scope scope) =>
        scope.HeadersAt is { } h ? $" (the proxy_set_header lines in force are those from {h}: a block that sets any replaces all it inherits)" : "";

    private static ProxyFact HostFact(Scope scope, SourceLocation at)
    {
        if (scope.Header("X-Forwarded-Host") is { } fh) return new ProxyFact(true, $"proxy_set_header X-Forwarded-Host {fh.Value}", fh.At);
        var host = scope.Header("Host");
        if (host is { } h && (h.Value.Contains("$host", StringComparison.Ordinal) || h.Value.Contains("$http_host", StringComparison.Ordinal)))
            return new ProxyFact(true, $"proxy_set_header Host {h.Value}", h.At);
        var found = host is { } other ? $"Host is set to {other.Value}" : "Host is $proxy_host (nginx's default, the upstream's name)" + Replaced(scope);
        return new ProxyFact(false, found + ", so Workbench builds its redirects to the wrong host", host?.At ?? scope.HeadersAt ?? at,
            $"Add 'proxy_set_header Host $http_host;' beside the other proxy_set_header lines that apply at {at}.");
    }

    private static ProxyFact UpstreamStickiness(ProxyDirective upstream)
    {
        var block = upstream.Block!;
        if (block.FirstOrDefault(d => d.Name == "ip_hash") is { } ip) return new ProxyFact(true, $"upstream {upstream.Arg(0)} uses ip_hash", ip.At);
        if (block.FirstOrDefault(d => d.Name == "sticky") is { } st) return new ProxyFact(true, $"upstream {upstream.Arg(0)} uses sticky {string.Join(' ', st.Args)}", st.At);
        var fix = $"Add 'ip_hash;' to upstream {upstream.Arg(0)} ({upstream.At}).";
        if (block.FirstOrDefault(d => d.Name == "hash") is { } hash)
        {
            string[] perClient = ["$remote_addr", "$binary_remote_addr", "$realip_remote_addr", "$cookie_", "$http_cookie", "$http_x_forwarded_for"];
            return perClient.Any(v => hash.Arg(0).Contains(v, StringComparison.Ordinal))
                ? new ProxyFact(true, $"upstream {upstream.Arg(0)} uses hash {string.Join(' ', hash.Args)}", hash.At)
                : new ProxyFact(false, $"upstream {upstream.Arg(0)} hashes on {hash.Arg(0)}, which does not keep a user's requests on one node", hash.At,
                    $"Hash on the client (hash $remote_addr consistent;) or use ip_hash; at {hash.At}.");
        }
        var method = block.FirstOrDefault(d => d.Name is "least_conn" or "random" or "least_time")?.Name ?? "round robin";
        return new ProxyFact(false, $"upstream {upstream.Arg(0)} balances each request by {method}, without ip_hash, hash or sticky", upstream.At, fix);
    }

    private static ProxyFact WebSocket(Scope scope, SourceLocation at, Dictionary<string, ProxyDirective> maps)
    {
        var problems = new List<string>();
        var fixes = new List<string>();
        SourceLocation? first = null;
        if (scope.HttpVersion is not { } version || version.Value is not ("1.1" or "2" or "2.0"))
        {
            problems.Add(scope.HttpVersion is { } v ? $"proxy_http_version {v.Value} ({v.At})" : "proxy_http_version is 1.0 (nginx's default)");
            fixes.Add("proxy_http_version 1.1;");
            first ??= scope.HttpVersion?.At ?? at;
        }
        if (scope.Header("Upgrade") is not { } upgrade || !upgrade.Value.Contains("$http_upgrade", StringComparison.Ordinal))
        {
            problems.Add("the Upgrade header is not passed on (proxy_set_header Upgrade $http_upgrade)" + Replaced(scope));
            fixes.Add("proxy_set_header Upgrade $http_upgrade;");
            first ??= scope.HeadersAt ?? at;
        }
        var connection = scope.Header("Connection");
        if (connection is not { } c || !ConnectionUpgrades(c.Value, maps))
        {
            problems.Add(connection is { } cv ? $"Connection is set to {cv.Value} ({cv.At}), which never says upgrade"
                : "the Connection header is not set to upgrade (proxy_set_header Connection $connection_upgrade)");
            fixes.Add("proxy_set_header Connection $connection_upgrade; (with map $http_upgrade $connection_upgrade { default upgrade; '' close; } in http)");
            first ??= connection?.At ?? scope.HeadersAt ?? at;
        }
        return problems.Count == 0
            ? new ProxyFact(true, $"proxy_http_version {scope.HttpVersion!.Value.Value} with Upgrade and Connection passed on", scope.HeadersAt ?? at)
            : new ProxyFact(false, "websockets cannot upgrade: " + string.Join("; ", problems), first,
                $"At {at}: {string.Join(" ", fixes)}");
    }

    /// <summary>Whether a Connection value says "upgrade" when the client asked for one: literally, or through a map of $http_upgrade.</summary>
    private static bool ConnectionUpgrades(string value, Dictionary<string, ProxyDirective> maps)
    {
        if (value.Contains("upgrade", StringComparison.OrdinalIgnoreCase) && !value.StartsWith('$')) return true;
        return maps.TryGetValue(value, out var map) && map.Arg(0) == "$http_upgrade"
            && map.Block!.Any(d => d.Name.Length > 0 && d.Arg(0).Equals("upgrade", StringComparison.OrdinalIgnoreCase));
    }

    private static ProxyTimeout Timeout(string name, (string Value, SourceLocation At)? set, SourceLocation at)
    {
        var fix = $"Set '{name} 20d;' at {set?.At ?? at} (Workbench needs at least 60 s; Posit's example uses 20d).";
        if (set is not { } s) return new ProxyTimeout(name, 60, null, fix);
        // nginx refuses to start on a time it cannot read: so is the whole configuration.
        var seconds = Duration.Nginx(s.Value) ?? throw ProxySyntax.Error(s.At,
            $"{name} \"{s.Value}\" is not an nginx time, and nginx refuses it (whole numbers with ms, s, m, h, d or w, the larger units first: 20d, 1h30m, 90s)");
        return new ProxyTimeout(name, seconds, s.At, fix);
    }

    /// <summary>host:port, [v6]:port or host alone (then <paramref name="defaultPort"/>).</summary>
    internal static (string Host, int Port)? SplitHostPort(string value, int defaultPort)
    {
        if (value.Length == 0) return null;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']');
            if (close < 0) return null;
            var host = value[1..close];
            return value.Length > close + 2 && value[close + 1] == ':' && int.TryParse(value[(close + 2)..], out var p6) ? (host, p6) : (host, defaultPort);
        }
        var colon = value.LastIndexOf(':');
        if (colon > 0 && value.IndexOf(':') == colon)
            return int.TryParse(value[(colon + 1)..], out var p) ? (value[..colon], p) : null;
        return (value, defaultPort);
    }
}

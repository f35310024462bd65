using System.Text;

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>
/// Apache httpd's configuration: lines (a trailing backslash continues one), # comments, quoted arguments,
/// &lt;Section args&gt;…&lt;/Section&gt; nesting, Include/IncludeOptional expanded in place (globs and directories,
/// relative to ServerRoot), and what mod_proxy_balancer makes of it for Workbench's routes.
/// </summary>
public static class ApacheConfig
{
    /// <summary>Conditional sections read as if their condition held: the directives they guard are the ones meant to apply.</summary>
    private static readonly HashSet<string> Transparent = new(StringComparer.OrdinalIgnoreCase)
        { "IfModule", "IfDefine", "IfVersion", "IfFile", "IfDirective", "IfSection", "IfEnv" };

    public static IReadOnlyList<ProxyDirective> Parse(ProxySource main, List<string>? files = null)
    {
        files ??= [];
        var serverRoot = Path.GetDirectoryName(main.Path)!;
        return ParseFile(main, ref serverRoot, files, [], 0);
    }

    private sealed class Frame(string name, SourceLocation at)
    {
        public string Name { get; } = name;
        public SourceLocation At { get; } = at;
        public List<string> Args { get; init; } = [];
        public List<ProxyDirective> Body { get; } = [];
    }

    private static List<ProxyDirective> ParseFile(ProxySource source, ref string serverRoot, List<string> files, HashSet<string> stack, int depth)
    {
        if (depth > ProxyFiles.MaxIncludeDepth || !stack.Add(source.Path))
            throw ProxySyntax.Error(new SourceLocation(source.Path, 1), "includes itself (an include loop)");
        files.Add(source.Path);
        var frames = new Stack<Frame>();
        frames.Push(new Frame("", new SourceLocation(source.Path, 1)));
        var lines = source.Text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var at = new SourceLocation(source.Path, i + 1);
            var text = lines[i].TrimEnd('\r');
            while (text.EndsWith('\\') && i + 1 < lines.Length) text = text[..^1] + lines[++i].TrimEnd('\r');
            text = text.Trim();
            if (text.Length == 0 || text[0] == '#') continue;
            if (text.StartsWith("</", StringComparison.Ordinal))
            {
                var name = text[2..].TrimEnd('>').Trim();
                if (frames.Count == 1 || !frames.Peek().Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                    throw ProxySyntax.Error(at, frames.Count == 1 ? $"</{name}> closes no section" : $"</{name}> closes <{frames.Peek().Name}> opened at {frames.Peek().At}");
                var done = frames.Pop();
                if (Transparent.Contains(done.Name)) frames.Peek().Body.AddRange(done.Body);
                else frames.Peek().Body.Add(new ProxyDirective(done.Name, done.Args, done.At, done.Body));
                continue;
            }
            if (text[0] == '<')
            {
                if (!text.EndsWith('>')) throw ProxySyntax.Error(at, "a section line does not end with '>'");
                var words = Words(text[1..^1], at);
                if (words.Count == 0) throw ProxySyntax.Error(at, "a section without a name");
                frames.Push(new Frame(words[0], at) { Args = words.Skip(1).ToList() });
                continue;
            }
            var parts = Words(text, at);
            var directive = new ProxyDirective(parts[0], parts.Skip(1).ToList(), at, null);
            if (directive.Is("ServerRoot") && directive.Args.Count > 0) serverRoot = directive.Args[0];
            if (directive.Is("Include") || directive.Is("IncludeOptional"))
            {
                var optional = directive.Is("IncludeOptional");
                foreach (var pattern in directive.Args)
                    foreach (var file in ProxyFiles.Expand(pattern, serverRoot, at, optional))
                    {
                        if (optional && !File.Exists(file)) continue;
                        frames.Peek().Body.AddRange(ParseFile(ProxyFiles.Read(file, at), ref serverRoot, files, stack, depth + 1));
                    }
                continue;
            }
            frames.Peek().Body.Add(directive);
        }
        if (frames.Count > 1) throw ProxySyntax.Error(frames.Peek().At, $"<{frames.Peek().Name}> is not closed");
        stack.Remove(source.Path);
        return frames.Pop().Body;
    }

    /// <summary>Arguments as Apache splits them: white space, with "…" and '…' quoting (a backslash escapes the quote).</summary>
    private static List<string> Words(string text, SourceLocation at)
    {
        var words = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            var word = new StringBuilder();
            if (text[i] is '"' or '\'')
            {
                var quote = text[i++];
                while (true)
                {
                    if (i >= text.Length) throw ProxySyntax.Error(at, $"a string opened with {quote} is not closed");
                    if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] == quote) { word.Append(quote); i += 2; continue; }
                    if (text[i] == quote) { i++; break; }
                    word.Append(text[i++]);
                }
            }
            else
                while (i < text.Length && !char.IsWhiteSpace(text[i])) word.Append(text[i++]);
            words.Add(word.ToString());
        }
        return words;
    }

    /// <summary>key=value parameters of ProxyPass, BalancerMember and ProxySet (keys lower-case).</summary>
    private static Dictionary<string, string> Params(IEnumerable<string> args) =>
        args.Where(a => a.Contains('=')).Select(a => a.Split('=', 2)).GroupBy(p => p[0].ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Last()[1]);

    private sealed record Balancer(string Name, SourceLocation At, List<ProxyDirective> Members, Dictionary<string, string> Settings, SourceLocation? SettingsAt);

    public static ProxyConfig Analyze(ProxySource main)
    {
        var files = new List<string>();
        var top = Parse(main, files);
        var balancers = new Dictionary<string, Balancer>(StringComparer.OrdinalIgnoreCase);
        Balancer BalancerOf(string url, SourceLocation at)
        {
            var name = url.TrimEnd('/');
            if (!balancers.TryGetValue(name, out var b)) balancers[name] = b = new Balancer(name, at, [], [], null);
            return b;
        }
        void Collect(IEnumerable<ProxyDirective> list)
        {
            foreach (var d in list)
            {
                if (d.Is("Proxy") && d.Block is not null && d.Arg(0).StartsWith("balancer://", StringComparison.OrdinalIgnoreCase))
                {
                    var b = BalancerOf(d.Arg(0), d.At);
                    b.Members.AddRange(d.Block.Where(m => m.Is("BalancerMember")));
                    foreach (var set in d.Block.Where(m => m.Is("ProxySet")))
                    {
                        foreach (var kv in Params(set.Args)) b.Settings[kv.Key] = kv.Value;
                        balancers[b.Name] = b with { SettingsAt = set.At };
                        b = balancers[b.Name];
                    }
                }
                else if (d.Is("BalancerMember") && d.Arg(0).StartsWith("balancer://", StringComparison.OrdinalIgnoreCase))
                    BalancerOf(d.Arg(0), d.At).Members.Add(d with { Args = d.Args.Skip(1).ToList() });
                else if (d.Is("ProxySet") && d.Arg(0).StartsWith("balancer://", StringComparison.OrdinalIgnoreCase))
                {
                    var b = BalancerOf(d.Arg(0), d.At);
                    foreach (var kv in Params(d.Args.Skip(1))) b.Settings[kv.Key] = kv.Value;
                    balancers[b.Name] = b with { SettingsAt = d.At };
                }
                else if (d.Block is not null) Collect(d.Block);
            }
        }
        Collect(top);

        var global = top.Where(d => d.Block is null).ToList();
        var routes = new List<ProxyRoute>();
        AddRoutes("server config", top, global, [], routes, balancers);
        foreach (var vhost in top.Where(d => d.Is("VirtualHost") && d.Block is not null))
            AddRoutes($"<VirtualHost {string.Join(' ', vhost.Args)}> ({vhost.At})", vhost.Block!, global, vhost.Block!.Where(d => d.Block is null).ToList(), routes, balancers);
        return new ProxyConfig { Kind = ProxyKind.Apache, MainFile = main.Path, Files = files, Routes = routes };
    }

    private static void AddRoutes(string context, IReadOnlyList<ProxyDirective> body, List<ProxyDirective> global, List<ProxyDirective> vhost,
        List<ProxyRoute> routes, Dictionary<string, Balancer> balancers)
    {
        // Directives of the virtual host win over the server config's.
        ProxyDirective? Last(string name) => vhost.LastOrDefault(d => d.Is(name)) ?? global.LastOrDefault(d => d.Is(name));
        var scope = vhost.Concat(global).ToList();
        var rewrites = body.Where(d => d.Is("RewriteRule")).ToList();
        var wsElsewhere = body.Where(d => (d.Is("ProxyPass") || d.Is("ProxyPassMatch")) && d.Args.Any(a => IsWs(a, balancers)))
            .Concat(rewrites.Where(r => ApacheRewrite.Flags(r).Proxy && IsWs(r.Arg(1), balancers))).FirstOrDefault();
        // mod_rewrite's rules belong to their context: a virtual host does not run the server config's.
        var rewrite = ApacheRewrite.Run(vhost.Count > 0 ? vhost : global);
        foreach (var (d, path, url, rest, local) in Passes(body, rewrites, rewrite, balancers))
        {
            if (url == "!") continue;
            var settings = Params(rest);
            var scheme = url.Split("://", 2)[0].ToLowerInvariant();
            var at = d.At;
            var backend = scheme == "balancer" ? BalancerBackend(url, d, settings, scope, balancers) : OneServer(url, path, at);
            var upgrade = settings.GetValueOrDefault("upgrade") ?? (backend.Balancer?.Settings.GetValueOrDefault("upgrade"));
            var webSocket = scheme is "ws" or "wss"
                ? new ProxyFact(true, $"ProxyPass to {url} (mod_proxy_wstunnel)", at)
                : upgrade is not null && (upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase) || upgrade.Equals("ANY", StringComparison.OrdinalIgnoreCase))
                    ? new ProxyFact(true, $"upgrade={upgrade}", at)
                    : backend.MemberUpgrade ? new ProxyFact(true, "the balancer's members allow the websocket upgrade", backend.Balancer!.At)
                    : wsElsewhere is { } ws ? new ProxyFact(true, $"websockets are routed by {ws.Name} to {ws.Args.FirstOrDefault(a => IsWs(a, balancers))}", ws.At)
                    : new ProxyFact(false, $"websockets cannot upgrade: no upgrade=websocket on ProxyPass {path} and no ws:// route", at,
                        $"Add upgrade=websocket to 'ProxyPass {path} {url}' at {at} (Apache 2.4.47 or later; mod_proxy_http), or route websockets to ws:// members with mod_proxy_wstunnel.");
            var timeout = IdleTimeout(context, at, settings, backend, local.LastOrDefault(x => x.Is("ProxyTimeout")) ?? Last("ProxyTimeout"), Last("Timeout"));

            // The RequestHeader that sets a header, the most specific first: the <Location>'s, the virtual host's, the server's.
            ProxyDirective? Sets(string header)
            {
                bool Match(ProxyDirective x) => x.Is("RequestHeader") && x.Arg(0).ToLowerInvariant() is "set" or "add" or "append" or "setifempty" or "merge"
                    && x.Arg(1).Equals(header, StringComparison.OrdinalIgnoreCase);
                return local.LastOrDefault(Match) ?? vhost.LastOrDefault(Match) ?? global.LastOrDefault(Match);
            }
            (string Value, SourceLocation At)? Sent(string header) => Sets(header) is { } h ? (rewrite.Value(h.Arg(2)), h.At) : null;
            var proto = Sets("X-Forwarded-Proto");
            var preserve = local.LastOrDefault(x => x.Is("ProxyPreserveHost")) ?? Last("ProxyPreserveHost");
            var addHeaders = local.LastOrDefault(x => x.Is("ProxyAddHeaders")) ?? Last("ProxyAddHeaders");
            var host = preserve?.Arg(0).Equals("On", StringComparison.OrdinalIgnoreCase) == true
                ? new ProxyFact(true, "ProxyPreserveHost On", preserve.At)
                : addHeaders?.Arg(0).Equals("Off", StringComparison.OrdinalIgnoreCase) != true
                    ? new ProxyFact(true, "X-Forwarded-Host is added (ProxyAddHeaders, on by default)", addHeaders?.At)
                    : new ProxyFact(false, "ProxyAddHeaders Off without ProxyPreserveHost On: Workbench sees the node's own name as the host and builds its redirects to it", addHeaders.At,
                        $"Add 'ProxyPreserveHost On' to {context}.");
            routes.Add(new ProxyRoute
            {
                Name = $"{context}: {d.Name} {path} {url}",
                At = at,
                Servers = backend.Servers,
                AddServerFix = backend.AddFix,
                Sticky = backend.Sticky,
                WebSocket = webSocket,
                Timeouts = [timeout],
                ForwardedProto = proto is not null
                    ? new ProxyFact(true, $"RequestHeader {proto.Arg(0)} X-Forwarded-Proto {proto.Arg(2)}", proto.At)
                    : new ProxyFact(false, "neither X-RStudio-Request nor X-Forwarded-Proto is set (mod_proxy adds X-Forwarded-For and -Host, not the scheme)", at,
                        $"Add '{OriginalUrl.Vocabulary.Apache.Example}' (Posit's preferred header) or 'RequestHeader set X-Forwarded-Proto \"https\"' (or \"http\") to {context} (mod_headers)."),
                ForwardedHost = host,
                OriginalUrl = OriginalUrl.Judge(OriginalUrl.Vocabulary.Apache, Sent(OriginalUrl.RStudioRequest), Sent(OriginalUrl.Forwarded),
                    (header, value) => $"RequestHeader {Sets(header)!.Arg(0)} {header} \"{Sets(header)!.Arg(2)}\"{rewrite.Explain(Sets(header)!.Arg(2), value)}", $"in {context}"),
            });
        }
    }

    /// <summary>Every place a context proxies: ProxyPass(Match) lines, those inside &lt;Location&gt; blocks (with the block's own directives), or its RewriteRule [P] lines.</summary>
    private static List<(ProxyDirective D, string Path, string Url, List<string> Params, List<ProxyDirective> Local)> Passes(
        IReadOnlyList<ProxyDirective> body, List<ProxyDirective> rewrites, ApacheRewrite rewrite, Dictionary<string, Balancer> balancers)
    {
        var passes = new List<(ProxyDirective D, string Path, string Url, List<string> Params, List<ProxyDirective> Local)>();
        foreach (var d in body)
        {
            if ((d.Is("ProxyPass") || d.Is("ProxyPassMatch")) && d.Block is null && d.Args.Count >= 2)
                passes.Add((d, d.Args[0], d.Args[1], d.Args.Skip(2).ToList(), []));
            else if (d.Block is not null && (d.Is("Location") || d.Is("LocationMatch")))
                foreach (var p in d.Block.Where(x => x.Is("ProxyPass") && x.Args.Count >= 1))
                    passes.Add((p, d.Arg(0), p.Args[0], p.Args.Skip(1).ToList(), d.Block.Where(x => x.Block is null).ToList()));
        }
        // A site may proxy through RewriteRule [P] alone (Posit's Apache example without its fallback ProxyPass):
        // then its HTTP rules are the routes.
        if (passes.Count == 0 && rewrite.EngineOn)
            foreach (var r in rewrites.Where(r => ApacheRewrite.Flags(r).Proxy && r.Arg(1).Contains("://", StringComparison.Ordinal) && !IsWs(r.Arg(1), balancers)))
                passes.Add((r, r.Arg(0), r.Arg(1), [], []));
        return passes;
    }

    /// <summary>Where a route sends requests: its servers, whether one user stays on one, and what its members say of timeouts and upgrades.</summary>
    private sealed record Backend(List<ProxyServer> Servers, ProxyFact Sticky, Func<string, string> AddFix, Balancer? Balancer = null,
        List<((double Seconds, string? Note) Value, SourceLocation At)>? MemberTimeouts = null, bool MemberUpgrade = false);

    private static Backend OneServer(string url, string path, SourceLocation at)
    {
        List<ProxyServer> servers = HostPort(url) is { } hp ? [new ProxyServer(hp.Host, hp.Port, at)] : [];
        return new Backend(servers, new ProxyFact(true, $"ProxyPass {url} sends every request to one server", at),
            node => $"Define <Proxy \"balancer://workbench\"> with a BalancerMember per node ({node} among them) and ProxyPass {path} balancer://workbench/ at {at}.");
    }

    private static Backend BalancerBackend(string url, ProxyDirective d, Dictionary<string, string> settings, List<ProxyDirective> scope, Dictionary<string, Balancer> balancers)
    {
        var at = d.At;
        var name = "balancer://" + url["balancer://".Length..].Split('/', 2)[0];
        if (balancers.GetValueOrDefault(name) is not { } balancer)
            return new Backend([], new ProxyFact(false, $"{name} is not defined (no <Proxy {name}> with BalancerMember lines)", at, $"Define <Proxy \"{name}\"> with a BalancerMember per node."),
                node => $"Define <Proxy \"{name}\"> and add 'BalancerMember \"http://{node}\" route=<name>' to it.");
        var servers = new List<ProxyServer>();
        var memberTimeouts = new List<((double Seconds, string? Note) Value, SourceLocation At)>();
        var memberUpgrade = false;
        var members = balancer.Members.Select(m => (D: m, P: Params(m.Args.Skip(1))))
            .Select(m => (m.D, m.P, Flags: StatusFlags(m.P.GetValueOrDefault("status") ?? ""), Set: m.P.TryGetValue("lbset", out var l) && int.TryParse(l, out var n) ? n : 0))
            .Where(m => !m.Flags.Contains('D') && !m.Flags.Contains('S')).ToList();
        // mod_proxy_balancer uses the members of the lowest lbset that has a usable one; hot standby (H) and
        // hot spare (R) members only stand in when the others cannot take requests.
        static bool Spare(HashSet<char> flags) => flags.Contains('H') || flags.Contains('R');
        var lowest = members.Where(m => !Spare(m.Flags)).Select(m => m.Set).DefaultIfEmpty(0).Min();
        foreach (var (m, member, flags, lbset) in members)
        {
            var standby = flags.Contains('H') ? "status=+H" : flags.Contains('R') ? "status=+R" : lbset > lowest ? $"lbset={lbset}" : null;
            if (HostPort(m.Arg(0)) is { } hp) servers.Add(new ProxyServer(hp.Host, hp.Port, m.At, standby));
            if (member.TryGetValue("timeout", out var t)) memberTimeouts.Add((Seconds("timeout=", t, m.At, atLeastOne: true), m.At));
            if (member.ContainsKey("upgrade") || m.Arg(0).StartsWith("ws", StringComparison.OrdinalIgnoreCase)) memberUpgrade = true;
        }
        var sticky = ProxyServer.OneAtATime(balancer.Name, servers) ?? Stickiness(balancer, settings, d, scope);
        return new Backend(servers, sticky, node => $"Add 'BalancerMember \"http://{node}\" route=<name>' to <Proxy {balancer.Name}> ({balancer.At}).",
            balancer, memberTimeouts, memberUpgrade);
    }

    /// <summary>
    /// The idle timeout of the connection to the node: a worker's timeout=, else ProxyTimeout, else Timeout (60 s).
    /// An upgraded websocket tunnel lasts while either this or the client side's Timeout has not expired
    /// (seen with Apache 2.4), so this one bounds both the wait for a response and the websocket.
    /// </summary>
    private static ProxyTimeout IdleTimeout(string context, SourceLocation at, Dictionary<string, string> settings, Backend backend,
        ProxyDirective? proxyTimeout, ProxyDirective? plain)
    {
        const string fix = "Set 'ProxyTimeout 1728000' (20 days, in seconds: Apache reads whole seconds; Workbench needs at least 60 s) in the virtual host";
        var balancer = backend.Balancer;
        var set = settings.TryGetValue("timeout", out var pt) ? (Text: pt, At: (SourceLocation?)at)
            : balancer?.Settings.TryGetValue("timeout", out var bt) == true ? (Text: bt, At: balancer.SettingsAt ?? balancer.At) : default;
        if (backend.MemberTimeouts is { Count: > 0 } memberTimeouts)
        {
            var shortest = memberTimeouts.MinBy(m => m.Value.Seconds);
            return new ProxyTimeout("BalancerMember timeout=", shortest.Value.Seconds, shortest.At, $"Set timeout=1728000 on the BalancerMember at {shortest.At}, or remove it and {fix}.", shortest.Value.Note);
        }
        if (set.At is { } setAt)
        {
            var (seconds, note) = Seconds("timeout=", set.Text, setAt, atLeastOne: true);
            return new ProxyTimeout("timeout=", seconds, setAt, $"Set timeout=1728000 at {setAt}.", note);
        }
        if (proxyTimeout is not null)
        {
            var (seconds, note) = Seconds("ProxyTimeout", proxyTimeout.Arg(0), proxyTimeout.At, atLeastOne: true);
            return new ProxyTimeout("ProxyTimeout", seconds, proxyTimeout.At, $"Set 'ProxyTimeout 1728000' at {proxyTimeout.At}.", note);
        }
        if (plain is not null)
        {
            var (seconds, note) = Seconds("Timeout", plain.Arg(0), plain.At, atLeastOne: false);
            return new ProxyTimeout("Timeout (ProxyTimeout unset)", seconds, plain.At, $"{fix} ({context}).", note);
        }
        return new ProxyTimeout("Timeout", 60, null, $"{fix} ({context}).");
    }

    /// <summary>
    /// An Apache timeout as httpd reads it: atoi, whole seconds, anything after the number ignored. mod_proxy refuses
    /// less than 1 s for ProxyTimeout and timeout= (Apache does not start), which is a syntax error here too.
    /// </summary>
    private static (double Seconds, string? Note) Seconds(string directive, string text, SourceLocation at, bool atLeastOne)
    {
        var seconds = Duration.Apache(text, out var exact);
        if (atLeastOne && seconds < 1)
            throw ProxySyntax.Error(at, $"{directive} '{text}' is less than 1 second as Apache reads it (the leading whole number of seconds), and Apache refuses it");
        return (seconds, exact ? null : $"written '{text}': Apache reads the leading whole seconds");
    }

    /// <summary>StatusFlags of a worker's status=: letters set (+, the default) or cleared (-), as "+H", "D", "S-E".</summary>
    private static HashSet<char> StatusFlags(string status)
    {
        var set = new HashSet<char>();
        var clear = false;
        foreach (var ch in status)
        {
            if (ch is '+' or '-') { clear = ch == '-'; continue; }
            var flag = char.ToUpperInvariant(ch);
            if (clear) set.Remove(flag); else set.Add(flag);
            clear = false;
        }
        return set;
    }

    /// <summary>stickysession on the route or the balancer, a route= on every member, and a cookie that carries the route.</summary>
    private static ProxyFact Stickiness(Balancer balancer, Dictionary<string, string> pass, ProxyDirective d, List<ProxyDirective> scope)
    {
        var cookie = pass.GetValueOrDefault("stickysession") ?? balancer.Settings.GetValueOrDefault("stickysession");
        if (cookie is null)
            return new ProxyFact(false, $"{balancer.Name} has no stickysession: each request may go to another node", balancer.SettingsAt ?? balancer.At,
                $"Add 'ProxySet stickysession=ROUTEID' to <Proxy {balancer.Name}> ({balancer.At}), route=<name> to each BalancerMember, and 'Header add Set-Cookie \"ROUTEID=.%{{BALANCER_WORKER_ROUTE}}e; path=/\" env=BALANCER_ROUTE_CHANGED'.");
        var name = cookie.Split('|')[0];
        var noRoute = balancer.Members.Where(m => !Params(m.Args.Skip(1)).ContainsKey("route")).ToList();
        if (noRoute.Count > 0)
            return new ProxyFact(false, $"stickysession={cookie}, but the BalancerMember at {string.Join(", ", noRoute.Select(m => m.At))} has no route=, so a session cannot stick to it", noRoute[0].At,
                $"Add route=<a name of its own> to every BalancerMember of {balancer.Name}.");
        var setsCookie = scope.Any(h => h.Is("Header") && h.Args.Any(a => a.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase))
            && h.Args.Any(a => a.StartsWith(name + "=", StringComparison.Ordinal) && a.Contains("BALANCER_WORKER_ROUTE", StringComparison.Ordinal)));
        return setsCookie
            ? new ProxyFact(true, $"stickysession={cookie} with a route per member and the cookie set from BALANCER_WORKER_ROUTE", balancer.SettingsAt ?? d.At)
            : new ProxyFact(false, $"stickysession={cookie}, but nothing sets the cookie {name} (Workbench does not): requests are not kept on one node", balancer.SettingsAt ?? d.At,
                $"Add 'Header add Set-Cookie \"{name}=.%{{BALANCER_WORKER_ROUTE}}e; path=/\" env=BALANCER_ROUTE_CHANGED' to the virtual host (mod_headers).");
    }

    private static bool IsWs(string url, Dictionary<string, Balancer> balancers)
    {
        if (url.StartsWith("ws://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("wss://", StringComparison.OrdinalIgnoreCase)) return true;
        if (!url.StartsWith("balancer://", StringComparison.OrdinalIgnoreCase)) return false;
        var name = "balancer://" + url["balancer://".Length..].Split('/', 2)[0];
        return balancers.TryGetValue(name, out var b) && b.Members.Count > 0 && b.Members.All(m => m.Arg(0).StartsWith("ws", StringComparison.OrdinalIgnoreCase));
    }

    private static (string Host, int Port)? HostPort(string url)
    {
        var scheme = url.Split("://", 2);
        if (scheme.Length < 2) return null;
        var secure = scheme[0].EndsWith('s');
        return NginxConfig.SplitHostPort(scheme[1].Split('/', 2)[0], secure ? 443 : 80);
    }
}

using System.Text.RegularExpressions;

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>
/// What a context's mod_rewrite rules leave for mod_headers: the variables their [E=name:value] flags set on every
/// request, and the rules no request reaches. Posit's Apache example passes the client's URL in X-RStudio-Request
/// through such variables ("%{req_scheme}e://%{http_host}e%{req_uri}e"); an [E=] rule after a rule that ends
/// rewriting ([L] or [END]) for every request never runs, and Apache then sends "(null)" for the variable (seen with
/// Apache 2.4: "X-RStudio-Request: (null)://(null)(null)").
/// </summary>
public sealed class ApacheRewrite
{
    /// <summary>What mod_headers writes for a %{name}e variable nothing set (Apache 2.4).</summary>
    public const string Unset = "(null)";

    private readonly Dictionary<string, (string Value, SourceLocation At)> _env = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (SourceLocation Rule, SourceLocation Stopper)> _unreached = new(StringComparer.Ordinal);
    private bool _engineOn;

    /// <summary>Whether RewriteEngine is On in the context, so its rules run at all.</summary>
    public bool EngineOn => _engineOn;

    /// <summary>A RewriteRule's flags: whether it proxies ([P]), ends rewriting ([L], [END]), and the variables it sets.</summary>
    public sealed record RuleFlags(bool Proxy, bool Last, IReadOnlyList<(string Name, string Value)> Env);

    public static RuleFlags Flags(ProxyDirective rule)
    {
        var text = rule.Args.Count > 2 && rule.Args[^1].StartsWith('[') ? rule.Args[^1].Trim('[', ']') : "";
        var flags = text.Length == 0 ? [] : text.Split(',').Select(f => f.Trim()).ToList();
        var env = new List<(string, string)>();
        foreach (var f in flags)
        {
            var eq = f.IndexOf('=');
            if (eq < 0 || !(f[..eq].Equals("E", StringComparison.OrdinalIgnoreCase) || f[..eq].Equals("env", StringComparison.OrdinalIgnoreCase))) continue;
            var assignment = f[(eq + 1)..].Split(':', 2);
            if (assignment.Length == 2 && !assignment[0].StartsWith('!')) env.Add((assignment[0], assignment[1]));
        }
        bool Has(params string[] names) => flags.Any(f => names.Any(n => f.Equals(n, StringComparison.OrdinalIgnoreCase)));
        return new RuleFlags(Has("P", "proxy"), Has("L", "last", "END"), env);
    }

    /// <summary>Runs a context's RewriteEngine, RewriteCond and RewriteRule lines in order, as every request meets them.</summary>
    public static ApacheRewrite Run(IReadOnlyList<ProxyDirective> context)
    {
        var result = new ApacheRewrite
        {
            _engineOn = context.LastOrDefault(d => d.Is("RewriteEngine"))?.Arg(0).Equals("on", StringComparison.OrdinalIgnoreCase) == true,
        };
        var conditions = new List<ProxyDirective>();
        // The single conditions of catch-all [L] rules met so far: a condition and its negation together stop every request.
        var guarded = new List<(ProxyDirective Condition, ProxyDirective Rule)>();
        ProxyDirective? stopper = null;
        foreach (var d in context)
        {
            if (d.Is("RewriteCond")) { conditions.Add(d); continue; }
            if (!d.Is("RewriteRule")) continue;
            var flags = Flags(d);
            foreach (var (name, value) in flags.Env)
            {
                if (stopper is not null) result._unreached[name] = (d.At, stopper.At);
                // A conditional [E=] rule does not set its variable on every request.
                else if (conditions.Count == 0 && CatchAll(d.Arg(0))) result._env[name] = (value, d.At);
            }
            if (stopper is null && flags.Last && CatchAll(d.Arg(0)))
            {
                if (conditions.Count == 0) stopper = d;
                else if (conditions.Count == 1 && conditions[0].Args.Count == 2)
                {
                    var complement = guarded.FirstOrDefault(g => Complementary(g.Condition, conditions[0]));
                    if (complement.Rule is not null) stopper = d;
                    else guarded.Add((conditions[0], d));
                }
            }
            conditions.Clear();
        }
        return result;
    }

    /// <summary>A pattern every request path matches ("/(.*)", "^/?(.*)$", ".").</summary>
    private static bool CatchAll(string pattern)
    {
        var p = pattern.TrimStart('^').TrimEnd('$');
        return p is "" or "/" or "." or ".*" or "(.*)" or "/.*" or "/(.*)" or "/?.*" or "/?(.*)" or "^/?(.*)";
    }

    /// <summary>The same test string with a pattern and its negation ("=websocket", "!=websocket").</summary>
    private static bool Complementary(ProxyDirective a, ProxyDirective b) =>
        a.Arg(0).Equals(b.Arg(0), StringComparison.OrdinalIgnoreCase)
        && (a.Arg(1) == "!" + b.Arg(1) || b.Arg(1) == "!" + a.Arg(1));

    private static readonly Regex EnvVariable = new(@"%\{([^}]+)\}e", RegexOptions.CultureInvariant);

    /// <summary>
    /// A RequestHeader value as Apache sends it, in terms of the server's variables: an expr= value as written, each
    /// %{name}e replaced by what the rules set it to (or "(null)").
    /// </summary>
    public string Value(string written) =>
        written.StartsWith("expr=", StringComparison.Ordinal) ? written[5..]
            : EnvVariable.Replace(written, m => _engineOn && _env.TryGetValue(m.Groups[1].Value, out var v) ? v.Value : Unset);

    /// <summary>How a written value became the one sent, for the finding (empty for an expr= value or one without variables).</summary>
    public string Explain(string written, string sent)
    {
        var names = EnvVariable.Matches(written).Select(m => m.Groups[1].Value).Distinct().ToList();
        if (written.StartsWith("expr=", StringComparison.Ordinal) || names.Count == 0) return "";
        var missing = names.Where(n => !_engineOn || !_env.ContainsKey(n)).ToList();
        if (missing.Count == 0) return $" (sends {sent}, from the RewriteRule [E=] variables)";
        if (!_engineOn) return $" (Apache sends '{sent}': RewriteEngine is not On in this context, so no RewriteRule sets {string.Join(", ", missing)})";
        var why = new List<string>();
        var unreached = missing.Where(_unreached.ContainsKey).ToList();
        if (unreached.Count > 0)
            why.Add($"the RewriteRule [E=] lines at {string.Join(", ", unreached.Select(n => _unreached[n].Rule))} never run, because the [L] rules before them "
                + $"(the last at {_unreached[unreached[0]].Stopper}) end rewriting for every request: move them above those rules");
        var unset = missing.Except(unreached).ToList();
        if (unset.Count > 0) why.Add($"nothing sets {string.Join(", ", unset)} for every request");
        return $" (Apache sends '{sent}': {string.Join("; ", why)})";
    }
}

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>
/// The headers that tell Workbench the URL the browser used, judged from the value the proxy writes into them.
/// Workbench reads them in this order (rstudio's core/http/Request.cpp, Request::proxiedUri): X-RStudio-Request,
/// "the exact scheme/host/port/path of the original request as sent by the browser" (Posit's "Running with a Proxy"
/// prefers it); else Forwarded (its host= and proto=; no proto= is http); else X-Forwarded-Proto with
/// X-Forwarded-Host or the Host header. The first one set is the only one Workbench reads.
/// </summary>
public static class OriginalUrl
{
    public const string RStudioRequest = "X-RStudio-Request";
    public const string Forwarded = "Forwarded";

    /// <summary>What a proxy writes for each part of the client's URL: its variables, by the part they carry.</summary>
    public sealed record Vocabulary(string[] Scheme, string[] Host, string[] HostAndPort, string[] Port, string[] Path, string Example)
    {
        public static readonly Vocabulary Nginx = new(
            ["$scheme", "${scheme}"],
            ["$host", "${host}", "$server_name", "${server_name}"],
            ["$http_host", "${http_host}"],
            ["$server_port", "${server_port}"],
            ["$request_uri", "${request_uri}", "$uri", "${uri}", "$document_uri"],
            "proxy_set_header X-RStudio-Request $scheme://$host:$server_port$request_uri;");

        /// <summary>Apache's server variables, as an expr= value names them (an env-variable value is resolved to them first).</summary>
        public static readonly Vocabulary Apache = new(
            ["%{REQUEST_SCHEME}"],
            ["%{SERVER_NAME}"],
            ["%{HTTP_HOST}", "%{HTTP:Host}", "%{req:Host}"],
            ["%{SERVER_PORT}"],
            ["%{REQUEST_URI}"],
            "RequestHeader set X-RStudio-Request \"expr=%{REQUEST_SCHEME}://%{HTTP_HOST}%{REQUEST_URI}\"");

        public static readonly Vocabulary HAProxy = new(
            ["%[ssl_fc,iif(https,http)]"],
            [],
            ["%[req.hdr(host)]", "%[hdr(host)]", "%[req.fhdr(host)]", "%[req.hdr(Host)]", "%[hdr(Host)]"],
            ["%[dst_port]"],
            ["%[url]", "%[pathq]", "%[path]", "%[capture.req.uri]"],
            "http-request set-header X-RStudio-Request %[ssl_fc,iif(https,http)]://%[req.hdr(host)]%[pathq]");
    }

    /// <summary>
    /// The fact Workbench's URL rests on, from the X-RStudio-Request and Forwarded values the route sends (null when
    /// unset); null when neither is sent, so X-Forwarded-Proto and the host decide. <paramref name="directive"/> gives
    /// the text of the directive that sets a header to a value, for the finding.
    /// </summary>
    public static ProxyFact? Judge(Vocabulary words, (string Value, SourceLocation At)? rstudioRequest, (string Value, SourceLocation At)? forwarded,
        Func<string, string, string> directive, string where)
    {
        if (rstudioRequest is { } r) return JudgeRequest(words, directive(RStudioRequest, r.Value), r.Value, r.At, where);
        if (forwarded is { } f) return JudgeForwarded(words, directive(Forwarded, f.Value), f.Value, f.At, where);
        return null;
    }

    private static ProxyFact JudgeRequest(Vocabulary words, string said, string value, SourceLocation at, string where)
    {
        var fix = $"Set the whole URL the browser used, as Posit's example does: '{words.Example}' ({where}).";
        var separator = value.IndexOf("://", StringComparison.Ordinal);
        if (separator < 0)
            return new ProxyFact(false, $"{said}: not a URL (scheme://host…), and Workbench takes it as the client's whole URL", at, fix);
        var scheme = value[..separator];
        var rest = value[(separator + 3)..];
        var pathAt = Math.Min(rest.IndexOf('/') is >= 0 and var slash ? slash : rest.Length, FirstOf(rest, words.Path) ?? rest.Length);
        var authority = rest[..pathAt];
        var parts = new List<string>();
        var missing = new List<string>();
        (Is(scheme, words.Scheme) || scheme is "http" or "https" ? parts : missing).Add("scheme");
        var clientHost = StartsWith(authority, words.Host) || StartsWith(authority, words.HostAndPort);
        var literalHost = authority.Length > 0 && (char.IsAsciiLetterOrDigit(authority[0]) || authority[0] == '[');
        (clientHost || literalHost ? parts : missing).Add("host");
        var port = Contains(authority, words.HostAndPort) || Contains(authority, words.Port) || HasLiteralPort(authority);
        if (port) parts.Add("port");
        var path = Contains(rest, words.Path);
        if (path) parts.Add("path");
        var carries = $"{said}: the client's {string.Join(", ", parts)}{(port ? "" : " (the scheme's default port)")}";
        if (missing.Count > 0)
            return new ProxyFact(false, $"{said}: no {string.Join(" or ", missing)} of the client's URL, and Workbench builds its URLs from this header alone", at, fix);
        if (!path)
            return new ProxyFact(true, $"{carries}, no path: Workbench takes this header as the request's whole URL", at,
                $"Add the request's path: '{words.Example}' ({where}).", Warn: true);
        return new ProxyFact(true, carries, at);
    }

    private static ProxyFact JudgeForwarded(Vocabulary words, string said, string value, SourceLocation at, string where)
    {
        // Workbench reads host=([\w.:]+) and proto=([\w.:]+) from it, and nothing else.
        var host = After(value, "host=");
        var proto = After(value, "proto=");
        var hostOk = host is not null && (StartsWith(host, words.Host) || StartsWith(host, words.HostAndPort) || (host.Length > 0 && char.IsAsciiLetterOrDigit(host[0])));
        var protoOk = proto is not null && (StartsWith(proto, words.Scheme) || proto.StartsWith("http", StringComparison.OrdinalIgnoreCase));
        if (hostOk && protoOk) return new ProxyFact(true, $"{said}: the client's host and scheme (Workbench reads host= and proto=)", at);
        var missing = string.Join(" and ", new[] { hostOk ? null : "host=", protoOk ? null : "proto=" }.Where(m => m is not null));
        return new ProxyFact(false, $"{said}: no {missing} of the client, and Workbench reads only host= and proto= from Forwarded (no proto= is http)", at,
            $"Set X-RStudio-Request instead, which Workbench prefers: '{words.Example}' ({where}); or give Forwarded both host= and proto= of the client's request.");
    }

    private static string? After(string value, string key)
    {
        var i = value.IndexOf(key, StringComparison.OrdinalIgnoreCase);
        return i < 0 ? null : value[(i + key.Length)..];
    }

    private static bool Is(string text, string[] words) => words.Any(w => text.Equals(w, StringComparison.OrdinalIgnoreCase));
    private static bool StartsWith(string text, string[] words) => words.Any(w => text.StartsWith(w, StringComparison.OrdinalIgnoreCase));
    private static bool Contains(string text, string[] words) => words.Any(w => text.Contains(w, StringComparison.OrdinalIgnoreCase));

    private static int? FirstOf(string text, string[] words) =>
        words.Select(w => text.IndexOf(w, StringComparison.OrdinalIgnoreCase)).Where(i => i >= 0).Cast<int?>().Min();

    /// <summary>":8443" after the host, written out.</summary>
    private static bool HasLiteralPort(string authority)
    {
        var colon = authority.LastIndexOf(':');
        return colon >= 0 && colon + 1 < authority.Length && authority[(colon + 1)..].All(char.IsAsciiDigit);
    }
}

using System.Globalization;
using System.Text;

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>What to generate: the proxy, the nodes, where it listens, and TLS termination when both files are given.</summary>
public sealed record LoadBalancerSpec
{
    public required ProxyKind Kind { get; init; }
    public required IReadOnlyList<(string Host, int Port)> Nodes { get; init; }
    public string ServerName { get; init; } = "_";
    public int? Port { get; init; }
    public string? TlsCertificate { get; init; }
    public string? TlsKey { get; init; }
    /// <summary>The IP address to listen on; null for every address.</summary>
    public string? ListenAddress { get; init; }
    public bool Tls => TlsCertificate is not null;
    public int ListenPort => Port ?? (Tls ? 443 : 80);

    /// <summary>nginx's listen and HAProxy's bind: the port alone on every address, else address:port ([v6]:port).</summary>
    internal string Listen(int port) => ListenAddress is { } address ? NodeCandidate.FormatAddress(address, port) : port.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Writes a configuration meeting every load balancer check: each node a server, sticky sessions, websockets,
/// 20-day timeouts (Posit's nginx example; Workbench needs at least 60 s), X-Forwarded-Proto and the client's
/// host, and an X-Workbench-Node answer header naming the node (so the live probe can tell nodes apart).
/// </summary>
public static class LoadBalancerConfigWriter
{
    public const string Timeout = "20d";
    public const int TimeoutSeconds = 20 * 86400;
    public const string NodeHeader = ProbeOptions.DefaultNodeHeader;

    public static string Generate(LoadBalancerSpec spec)
    {
        if (spec.Nodes.Count == 0)
            throw new WbException("NoNodes", WbErrorCategory.InvalidArgument, "No nodes to balance: register them (Register-WbNode) or pass -Node host:port.", null);
        if ((spec.TlsCertificate is null) != (spec.TlsKey is null))
            throw new WbException("TlsIncomplete", WbErrorCategory.InvalidArgument, "TLS termination needs both -TlsCertificate and -TlsKey.", spec.TlsCertificate ?? spec.TlsKey);
        if (spec.ListenAddress is { } listen) spec = spec with { ListenAddress = CanonicalAddress(listen) };
        foreach (var value in new[] { spec.ServerName, spec.TlsCertificate, spec.TlsKey }.Concat(spec.Nodes.Select(n => n.Host)))
            if (value is not null && (value.Length == 0 || value.Any(ch => char.IsWhiteSpace(ch) || char.IsControl(ch) || ch is ';' or '{' or '}' or '"' or '\'' or '#' or '\\' or '<' or '>')))
                throw new WbException("InvalidLoadBalancerValue", WbErrorCategory.InvalidArgument,
                    $"'{SafeText.Quote(value)}' cannot be written into a proxy configuration (white space, control characters, quotes, ; {{ }} # \\ < > are not allowed).", value);
        return spec.Kind switch
        {
            ProxyKind.Nginx => Nginx(spec),
            ProxyKind.Apache => Apache(spec),
            _ => HAProxy(spec),
        };
    }

    /// <summary>
    /// An address as the proxies read it: dotted-quad IPv4 or compressed IPv6, what the address parser wrote back rather
    /// than what was typed (it also accepts "10.5" and text after a '%'). No zone id (a proxy cannot bind one); an
    /// IPv4-mapped IPv6 address as the IPv4 it stands for (nginx binds [..] addresses IPv6-only, which refuses it).
    /// </summary>
    private static string CanonicalAddress(string text)
    {
        if (!System.Net.IPAddress.TryParse(text, out var address) || text.Contains('%') ||
            (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && address.ScopeId != 0) ||
            (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && text.Count(c => c == '.') != 3))
            throw new WbException("InvalidListenAddress", WbErrorCategory.InvalidArgument,
                $"-ListenAddress '{text}' is not an IP address a proxy can listen on (127.0.0.1, 10.0.0.5, ::1; no zone id).", text);
        return (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
    }

    private static string Header(LoadBalancerSpec spec, string comment, string where) =>
        $"{comment} Posit Workbench behind {spec.Kind.ToString().ToLowerInvariant()}: written by New-WbLoadBalancerConfig (WorkbenchAdmin).\n" +
        $"{comment} {where}\n" +
        $"{comment} Checked by: Test-WbLoadBalancer -Path <this file> [-Uri <the balancer's URL>]\n";

    private static string Address((string Host, int Port) n) => NodeCandidate.FormatAddress(n.Host, n.Port);

    private static string Nginx(LoadBalancerSpec s)
    {
        var b = new StringBuilder(Header(s, "#", "Goes in the http context: /etc/nginx/conf.d/workbench.conf, then nginx -t && systemctl reload nginx."));
        b.Append("""

            # Connection: upgrade when the client asks for a websocket, close otherwise.
            map $http_upgrade $connection_upgrade {
                default upgrade;
                ''      close;
            }

            upstream workbench {
                # Sticky sessions: a client's address picks its node (required with SAML).
                ip_hash;

            """);
        foreach (var n in s.Nodes) b.Append(CultureInfo.InvariantCulture, $"    server {Address(n)};\n");
        b.Append("}\n");
        if (s.Tls)
            b.Append(CultureInfo.InvariantCulture, $"\nserver {{\n    listen {s.Listen(80)};\n    server_name {s.ServerName};\n    return 301 https://$host$request_uri;\n}}\n");
        b.Append(CultureInfo.InvariantCulture, $"\nserver {{\n    listen {s.Listen(s.ListenPort)}{(s.Tls ? " ssl" : "")};\n    server_name {s.ServerName};\n");
        if (s.Tls) b.Append(CultureInfo.InvariantCulture, $"    ssl_certificate {s.TlsCertificate};\n    ssl_certificate_key {s.TlsKey};\n");
        b.Append(CultureInfo.InvariantCulture, $$"""

                location / {
                    proxy_pass http://workbench;
                    proxy_http_version 1.1;
                    proxy_set_header Upgrade $http_upgrade;
                    proxy_set_header Connection $connection_upgrade;
                    proxy_set_header Host $http_host;
                    proxy_set_header X-Forwarded-Proto $scheme;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_read_timeout {{Timeout}};
                    proxy_send_timeout {{Timeout}};
                    proxy_buffering off;
                    # Which node answered, for Test-WbLoadBalancer -Uri (remove it to keep node addresses private).
                    proxy_hide_header {{NodeHeader}};
                    add_header {{NodeHeader}} $upstream_addr always;
                }
            }

            """);
        return b.ToString();
    }

    private static string Apache(LoadBalancerSpec s)
    {
        var scheme = s.Tls ? "https" : "http";
        var modules = "proxy proxy_http proxy_balancer proxy_wstunnel lbmethod_byrequests headers slotmem_shm" + (s.Tls ? " ssl" : "");
        var b = new StringBuilder(Header(s, "#", $"A site: /etc/apache2/sites-available/workbench.conf; a2enmod {modules}; a2ensite workbench; apache2ctl -t."));
        if (s.ListenPort is not 80 and not 443 || s.ListenAddress is not null)
            b.Append(CultureInfo.InvariantCulture, $"# Apache must listen there: in ports.conf, 'Listen {s.Listen(s.ListenPort)}' (in place of a 'Listen {s.ListenPort}' line, which takes every address).\n");
        b.Append(CultureInfo.InvariantCulture, $"\n<VirtualHost {(s.ListenAddress is null ? $"*:{s.ListenPort}" : s.Listen(s.ListenPort))}>\n");
        if (s.ServerName != "_") b.Append(CultureInfo.InvariantCulture, $"    ServerName {s.ServerName}\n");
        if (s.Tls) b.Append(CultureInfo.InvariantCulture, $"    SSLEngine on\n    SSLCertificateFile \"{s.TlsCertificate}\"\n    SSLCertificateKeyFile \"{s.TlsKey}\"\n");
        b.Append(CultureInfo.InvariantCulture, $$"""
                ProxyPreserveHost On
                ProxyTimeout {{TimeoutSeconds}}
                RequestHeader set X-Forwarded-Proto "{{scheme}}"
                # Sticky sessions: the route of the node that served a client's first request, in a cookie of ours.
                Header add Set-Cookie "WBROUTE=.%{BALANCER_WORKER_ROUTE}e; path=/; HttpOnly{{(s.Tls ? "; Secure" : "")}}" env=BALANCER_ROUTE_CHANGED
                # Which node answered, for Test-WbLoadBalancer -Uri (remove it to keep node addresses private).
                Header set {{NodeHeader}} "%{BALANCER_WORKER_NAME}e"

                <Proxy "balancer://workbench">

            """);
        for (var i = 0; i < s.Nodes.Count; i++)
            b.Append(CultureInfo.InvariantCulture, $"        BalancerMember \"http://{Address(s.Nodes[i])}\" route=node{i + 1} upgrade=websocket\n");
        b.Append("""
                    ProxySet stickysession=WBROUTE lbmethod=byrequests
                </Proxy>

                ProxyPass "/" "balancer://workbench/"
                ProxyPassReverse "/" "balancer://workbench/"
            </VirtualHost>

            """);
        return b.ToString();
    }

    private static string HAProxy(LoadBalancerSpec s)
    {
        // HAProxy reads the key from the certificate's PEM, or from the file beside it named <certificate>.key.
        if (s.Tls && s.TlsKey != s.TlsCertificate && s.TlsKey != s.TlsCertificate + ".key")
            throw new WbException("TlsKeyPlacement", WbErrorCategory.InvalidArgument,
                $"HAProxy reads the key from the certificate file or from '{s.TlsCertificate}.key': put -TlsKey '{s.TlsKey}' there (or append it to the certificate) and pass that path.", s.TlsKey);
        var b = new StringBuilder(Header(s, "#", "The whole of /etc/haproxy/haproxy.cfg (haproxy -c -f <file>), or merge its sections into yours."));
        b.Append(CultureInfo.InvariantCulture, $$"""

            defaults
                mode http
                timeout connect 10s
                timeout client {{Timeout}}
                timeout server {{Timeout}}
                timeout tunnel {{Timeout}}
                option forwardfor

            frontend workbench
                bind {{(s.ListenAddress is null ? ":" : "")}}{{s.Listen(s.ListenPort)}}{{(s.Tls ? $" ssl crt {s.TlsCertificate}" : "")}}
                http-request set-header X-Forwarded-Proto {{(s.Tls ? "https" : "http")}}
                default_backend workbench_nodes

            backend workbench_nodes
                balance roundrobin
                # Sticky sessions: HAProxy's own cookie names the node (required with SAML).
                cookie WBNODE insert indirect nocache httponly{{(s.Tls ? " secure" : "")}}
                # Which node answered, for Test-WbLoadBalancer -Uri (remove it to keep node addresses private).
                http-response set-header {{NodeHeader}} %[srv_name]

            """);
        for (var i = 0; i < s.Nodes.Count; i++)
            b.Append(CultureInfo.InvariantCulture, $"    server {Address(s.Nodes[i]).Replace("[", "").Replace("]", "")} {Address(s.Nodes[i])} cookie node{i + 1} check\n");
        return b.ToString();
    }
}

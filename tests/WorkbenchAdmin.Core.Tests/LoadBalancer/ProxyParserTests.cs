using WorkbenchAdmin.Core.LoadBalancer;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.LoadBalancer;

/// <summary>The three parsers on what real configurations contain: includes, quoting, sections, inheritance, and errors with file and line.</summary>
public sealed class ProxyParserTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly ClusterNodes TwoNodes = ClusterNodes.Of(["10.0.0.1:8787", "10.0.0.2:8787"]);
    public void Dispose() => _dir.Dispose();

    private static CheckResult Check(ProxyConfig config, string id) =>
        Assert.Single(LoadBalancerChecks.FromFile([CheckCatalog.Get(id)], config, TwoNodes, VerificationProbes.System));

    [Fact]
    public void NginxFollowsIncludeGlobsRelativeToTheMainFileWithQuotesCommentsAndVariables()
    {
        var main = _dir.Write("nginx/nginx.conf", """
            events { worker_connections 64; }
            http {
                # upstreams live in conf.d
                include conf.d/*.conf;
                map $http_upgrade $connection_upgrade { default upgrade; '' close; }
                server {
                    listen 80;
                    location / {
                        proxy_pass http://workbench;
                        proxy_http_version 1.1;
                        proxy_set_header Upgrade $http_upgrade;
                        proxy_set_header Connection $connection_upgrade;
                        proxy_set_header Host "$host";
                        proxy_set_header X-Forwarded-Proto ${scheme};
                        proxy_read_timeout "1m30s";
                        add_header X-Note "a; b { c } # not a comment";
                    }
                }
            }
            """);
        _dir.Write("nginx/conf.d/b-upstream.conf", "upstream workbench {\n    hash $remote_addr consistent;\n    server 10.0.0.1:8787;\n    server 10.0.0.2:8787 max_fails=3;\n    server 10.0.0.3:8787 down;\n}\n");
        _dir.Write("nginx/conf.d/a-empty.conf", "# nothing yet\n");
        var config = ProxyConfig.Load(main);
        Assert.Equal(ProxyKind.Nginx, config.Kind);
        Assert.Equal([main, _dir.File("nginx/conf.d/a-empty.conf"), _dir.File("nginx/conf.d/b-upstream.conf")], config.Files);
        var route = Assert.Single(config.Routes);
        Assert.Equal(["10.0.0.1:8787", "10.0.0.2:8787"], route.Servers.Select(s => s.Address));
        Assert.Equal(new SourceLocation(_dir.File("nginx/conf.d/b-upstream.conf"), 3), route.Servers[0].At);
        Assert.True(route.Sticky.Ok, route.Sticky.Found);
        Assert.Equal(90, route.Timeouts[0].Seconds);
        Assert.All(config.Routes, r => Assert.True(r.WebSocket.Ok && r.ForwardedHost.Ok && r.ForwardedProto.Ok));
    }

    [Fact]
    public void NginxProxySetHeaderInALocationReplacesEveryInheritedOne()
    {
        var main = _dir.Write("nginx.conf", """
            upstream wb { ip_hash; server 10.0.0.1:8787; server 10.0.0.2:8787; }
            server {
                proxy_http_version 1.1;
                proxy_set_header Upgrade $http_upgrade;
                proxy_set_header Connection "upgrade";
                proxy_set_header Host $http_host;
                proxy_set_header X-Forwarded-Proto $scheme;
                location / {
                    proxy_set_header X-Real-IP $remote_addr;
                    proxy_pass http://wb;
                }
            }
            """);
        var r = Check(ProxyConfig.Load(main), "loadbalancer.websocket");
        Assert.Equal(CheckStatus.Fail, r.Status);
        Assert.Contains($"{main}:9", r.Found);
        Assert.Contains("replaces all it inherits", r.Found);
        Assert.Equal(CheckStatus.Fail, Check(ProxyConfig.Load(main), "loadbalancer.forwarded-headers").Status);
    }

    [Theory]
    [InlineData("http {\n  server {\n    listen 80;\n", 2, "not closed")]
    [InlineData("server { listen 80 }\n", 1, "not terminated by ';'")]
    [InlineData("}\n", 1, "unexpected '}'")]
    [InlineData("server_name \"open;\n", 1, "not closed")]
    public void NginxSyntaxErrorsNameFileAndLine(string text, int line, string what)
    {
        var path = _dir.Write("bad.conf", text);
        var e = Assert.Throws<WbException>(() => ProxyConfig.Load(path, ProxyKind.Nginx));
        Assert.Equal(("LoadBalancerConfigSyntax", WbErrorCategory.ParserError), (e.ErrorId, e.Category));
        Assert.Contains($"{path}:{line}:", e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void AnIncludeThroughADirectoryOthersCanWriteIsRefused()
    {
        var planted = Directory.CreateDirectory(_dir.File("planted")).FullName;
        File.SetUnixFileMode(planted, (UnixFileMode)0x1FF); // 777, not sticky: anyone can swap its files
        _dir.Write("planted/upstream.conf", "upstream wb { server 10.0.0.1:8787; }\n");
        var main = _dir.Write("main.conf", "include planted/*.conf;\nserver { location / { proxy_pass http://wb; } }\n");
        var e = Assert.Throws<WbException>(() => ProxyConfig.Load(main));
        Assert.Equal("LoadBalancerConfigUnsafe", e.ErrorId);
        Assert.Contains($"included from {main}:1", e.Message);
        // Through the file checks, it is a check that could not be made.
        var results = WorkbenchAdmin.Core.Commands.LoadBalancer.LoadBalancerOperations.Run(
            WorkbenchAdmin.Core.Commands.LoadBalancer.LoadBalancerOperations.Select(null), main, null, null, TwoNodes, VerificationProbes.System, new ProbeOptions()).ToList();
        Assert.All(results, r => Assert.StartsWith("could not be checked:", r.Found));
    }

    [Fact]
    public void ApacheReadsContinuationsSectionsConditionalsAndIncludesRelativeToServerRoot()
    {
        _dir.Write("apache/sites/workbench.conf", """
            <VirtualHost *:443>
                ProxyPreserveHost On
                RequestHeader set X-Forwarded-Proto "https"
                Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED
                <IfModule mod_proxy_balancer.c>
                    <Proxy "balancer://wb">
                        BalancerMember "http://10.0.0.1:8787" route=1 \
                            upgrade=websocket
                        BalancerMember "http://10.0.0.2:8787" route=2 upgrade=websocket timeout=30
                        ProxySet stickysession=ROUTEID
                    </Proxy>
                </IfModule>
                <Location "/">
                    ProxyPass "balancer://wb/"
                </Location>
            </VirtualHost>
            """);
        var main = _dir.Write("apache/apache2.conf", $"ServerRoot \"{_dir.File("apache")}\"\nTimeout 300\nIncludeOptional mods-enabled/*.load\nInclude sites/*.conf\n");
        var config = ProxyConfig.Load(main);
        Assert.Equal(ProxyKind.Apache, config.Kind);
        var route = Assert.Single(config.Routes);
        Assert.Equal(["10.0.0.1:8787", "10.0.0.2:8787"], route.Servers.Select(s => s.Address));
        Assert.True(route.Sticky.Ok, route.Sticky.Found);
        Assert.True(route.WebSocket.Ok, route.WebSocket.Found);
        var timeout = Check(config, "loadbalancer.timeout");
        Assert.Equal(CheckStatus.Fail, timeout.Status);
        Assert.Contains($"{_dir.File("apache/sites/workbench.conf")}:9", timeout.Found);
    }

    [Fact]
    public void ApacheStickySessionWithoutARouteCookieIsNotSticky()
    {
        var main = _dir.Write("site.conf", """
            <VirtualHost *:80>
                <Proxy balancer://wb>
                    BalancerMember http://10.0.0.1:8787 route=a
                    BalancerMember http://10.0.0.2:8787 route=b
                </Proxy>
                ProxyPass / balancer://wb/ stickysession=ROUTEID
            </VirtualHost>
            """);
        var r = Check(ProxyConfig.Load(main), "loadbalancer.sticky");
        Assert.Equal(CheckStatus.Fail, r.Status);
        Assert.Contains("nothing sets the cookie ROUTEID", r.Found);
        Assert.Contains("BALANCER_WORKER_ROUTE", r.Fix);
    }

    [Theory]
    [InlineData("<VirtualHost *:80>\n</Proxy>\n", 2, "closes <VirtualHost> opened at")]
    [InlineData("<VirtualHost *:80>\nServerName x\n", 1, "is not closed")]
    [InlineData("Include missing/file.conf\n", 1, "included from")]
    public void ApacheErrorsNameFileAndLine(string text, int line, string what)
    {
        var path = _dir.Write("httpd.conf", text);
        var e = Assert.Throws<WbException>(() => ProxyConfig.Load(path, ProxyKind.Apache));
        Assert.Contains($"{path}:{line}", e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void HAProxyTimeoutsComeFromTheDefaultsBeforeEachProxyInMillisecondsByDefault()
    {
        var path = _dir.Write("haproxy.cfg", """
            global
                log stdout format raw local0

            defaults
                mode http
                timeout client 1h
                timeout server 30000   # milliseconds: 30 s
                timeout connect 5s

            backend be
                balance source
                server n1 10.0.0.1:8787 check
                server n2 10.0.0.2:8787 check

            defaults long
                mode http
                timeout client 1h
                timeout server 1h

            frontend fe from long
                bind :80
                http-request set-header X-Forwarded-Proto "http"
                use_backend be if { path_beg / }
            """);
        var config = ProxyConfig.Load(path);
        Assert.Equal(ProxyKind.HAProxy, config.Kind);
        var r = Check(config, "loadbalancer.timeout");
        Assert.Equal(CheckStatus.Fail, r.Status);
        // The backend takes the defaults before it, the frontend the one it names.
        Assert.Contains($"timeout server 30s ({path}:7)", r.Found);
        Assert.DoesNotContain("timeout client", r.Found);
        Assert.Equal(CheckStatus.Pass, Check(config, "loadbalancer.sticky").Status);
        Assert.Equal(CheckStatus.Pass, Check(config, "loadbalancer.nodes").Status);
    }

    [Fact]
    public void HAProxyInTcpModeCannotStickByCookie()
    {
        var path = _dir.Write("haproxy.cfg", "frontend fe\n    bind :80\n    default_backend be\nbackend be\n    cookie WB insert\n    server n1 10.0.0.1:8787 cookie a\n    server n2 10.0.0.2:8787 cookie b\n");
        var r = Check(ProxyConfig.Load(path), "loadbalancer.sticky");
        Assert.Equal(CheckStatus.Fail, r.Status);
        Assert.Contains("mode tcp", r.Found);
        Assert.Contains($"{path}:5", r.Found);
    }

    [Fact]
    public void HAProxyErrorsNameFileAndLine()
    {
        var path = _dir.Write("haproxy.cfg", "frontend fe\n    bind :80\n    default_backend nowhere\n");
        var e = Assert.Throws<WbException>(() => ProxyConfig.Load(path));
        Assert.Contains($"{path}:3", e.Message);
        Assert.Contains("'nowhere', which is no backend", e.Message);
    }

    [Fact]
    public void AFileThatIsNoProxyConfigurationAsksForKind()
    {
        var path = _dir.Write("empty.conf", "# only a comment\n");
        var e = Assert.Throws<WbException>(() => ProxyConfig.Load(path));
        Assert.Equal("LoadBalancerKindUnknown", e.ErrorId);
    }

    [Theory]
    [InlineData("60", "s", 60.0)]
    [InlineData("1m30s", "s", 90.0)]
    [InlineData("20d", "s", 1728000.0)]
    [InlineData("30000", "ms", 30.0)]
    [InlineData("2h", "ms", 7200.0)]
    [InlineData("soon", "s", null)]
    public void DurationsAreReadAsTheProxiesRead(string text, string unit, double? seconds) =>
        Assert.Equal(seconds, Duration.Parse(text, unit));
}

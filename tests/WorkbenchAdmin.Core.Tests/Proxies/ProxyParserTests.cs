using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Proxies;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Proxies;

/// <summary>The three parsers on what real configurations contain: includes, quoting, sections, inheritance, and errors with file and line.</summary>
public sealed class ProxyParserTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly ClusterNodes TwoNodes = ClusterNodes.Of(["10.0.0.1:8787", "10.0.0.2:8787"]);
    public void Dispose() => _dir.Dispose();

    private static CheckResult Check(ProxyConfig config, string id) =>
        Assert.Single(LoadBalancerChecks.FromFile([CheckCatalog.Get(id)], config, TwoNodes, Machine.Local));

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
        var results = WorkbenchAdmin.Core.Verification.LoadBalancerVerifier.Run(
            WorkbenchAdmin.Core.Commands.Proxies.LoadBalancerOperations.Select(null), main, null, null, TwoNodes, Machine.Local, new ProbeOptions()).ToList();
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

    /// <summary>nginx's time syntax (ngx_parse_time) for a directive kept in milliseconds, such as proxy_read_timeout.</summary>
    [Theory]
    [InlineData("60", 60.0)]
    [InlineData("20d", 1728000.0)]
    [InlineData("1h30m", 5400.0)]
    [InlineData("1h 30m", 5400.0)]
    [InlineData("2w3d", 1468800.0)]
    [InlineData("1m30s", 90.0)]
    [InlineData("500ms", 0.5)]
    [InlineData("1s500ms", 1.5)]
    [InlineData("1h30", 3630.0)] // a last number without a unit is seconds
    [InlineData("1M", null)] // months and years: only where nginx keeps seconds
    [InlineData("1y", null)]
    [InlineData("30m1h", null)] // the larger unit first
    [InlineData("1h1h", null)]
    [InlineData("1.5h", null)]
    [InlineData("20D", null)]
    [InlineData("1us", null)]
    [InlineData("h", null)]
    [InlineData("", null)]
    [InlineData("99999999999999999999", null)]
    public void NginxTimesAreReadAsNginxReadsThem(string text, double? seconds) => Assert.Equal(seconds, Duration.Nginx(text));

    [Fact]
    public void NginxTimesKeptInSecondsTakeMonthsAndYearsButNotMilliseconds()
    {
        Assert.Equal(365 * 86400 + 2 * 30 * 86400.0, Duration.Nginx("1y2M", milliseconds: false));
        Assert.Null(Duration.Nginx("500ms", milliseconds: false));
    }

    [Theory]
    [InlineData("30000", 30.0, "30000")] // milliseconds without a unit
    [InlineData("20d", 1728000.0, "20d")]
    [InlineData("24d", 2073600.0, "24d")]
    [InlineData("25d", null, null)] // 2^31 ms and more overflow HAProxy's timers
    [InlineData("90s", 90.0, "90s")]
    [InlineData("2m", 120.0, "2m")]
    [InlineData("1us", 0.000001, "1us")]
    [InlineData("1h30m", 3600.0, "1h")] // one number and one unit: HAProxy 2.6 ignores the rest, with a warning
    [InlineData("1.5s", null, null)]
    [InlineData("1w", null, null)]
    [InlineData("s", null, null)]
    public void HAProxyTimesAreReadAsHAProxyReadsThem(string text, double? seconds, string? read)
    {
        Assert.Equal(seconds, Duration.HAProxy(text, out var part));
        if (seconds is not null) Assert.Equal(read, part);
    }

    [Theory]
    [InlineData("1728000", 1728000L, true)]
    [InlineData("300", 300L, true)]
    [InlineData("20d", 20L, false)] // atoi: the leading number, in seconds
    [InlineData("1.5", 1L, false)]
    [InlineData("abc", 0L, false)]
    public void ApacheTimesAreReadWithAtoi(string text, long seconds, bool exact)
    {
        Assert.Equal(seconds, Duration.Apache(text, out var whole));
        Assert.Equal(exact, whole);
    }

    /// <summary>Our reading of each proxy's time syntax against the proxy's own: what it refuses, we call a syntax error.</summary>
    [ProxyTheory]
    [InlineData(ProxyKind.Nginx, "20d")]
    [InlineData(ProxyKind.Nginx, "\"1h 30m\"")]
    [InlineData(ProxyKind.Nginx, "1h30")]
    [InlineData(ProxyKind.Nginx, "500ms")]
    [InlineData(ProxyKind.Nginx, "1M")]
    [InlineData(ProxyKind.Nginx, "1y")]
    [InlineData(ProxyKind.Nginx, "30m1h")]
    [InlineData(ProxyKind.Nginx, "1.5h")]
    [InlineData(ProxyKind.HAProxy, "20d")]
    [InlineData(ProxyKind.HAProxy, "25d")]
    [InlineData(ProxyKind.HAProxy, "1h30m")]
    [InlineData(ProxyKind.HAProxy, "1w")]
    [InlineData(ProxyKind.HAProxy, "1.5s")]
    [InlineData(ProxyKind.HAProxy, "30000")]
    [InlineData(ProxyKind.Apache, "20d")]
    [InlineData(ProxyKind.Apache, "0")]
    [InlineData(ProxyKind.Apache, "1728000")]
    public void WhatTheProxyRefusesIsASyntaxErrorHereToo(ProxyKind kind, string value)
    {
        var text = kind switch
        {
            ProxyKind.Nginx => $"upstream wb {{ ip_hash; server 127.0.0.1:8787; }}\nserver {{ listen 127.0.0.1:8080; location / {{ proxy_pass http://wb; proxy_read_timeout {value}; }} }}\n",
            ProxyKind.HAProxy => $"defaults\n    mode http\n    timeout connect 5s\n    timeout client {value}\n    timeout server 1h\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    balance source\n    server n1 127.0.0.1:8787\n",
            _ => $"<VirtualHost *:8080>\n    ProxyTimeout {value}\n    ProxyPass / http://127.0.0.1:8787/\n</VirtualHost>\n",
        };
        var (exit, output) = ProxyProcess.Validate(kind, text, _dir);
        var path = _dir.Write($"time.{kind}.conf", text);
        WbException? ours = null;
        try { ProxyConfig.Load(path, kind); }
        catch (WbException e) { ours = e; }
        Assert.True((exit != 0) == (ours is not null), $"{kind} {value}: the proxy says exit {exit} ({output.Trim()}), we say {ours?.Message ?? "valid"}");
        if (ours is not null) Assert.Equal("LoadBalancerConfigSyntax", ours.ErrorId);
    }

    [Fact]
    public void AnApacheTimeoutWithAUnitIsReadAsApacheReadsItAndSaysSo()
    {
        var path = _dir.Write("site.conf", "<VirtualHost *:80>\n    ProxyTimeout 20d\n    ProxyPass / http://10.0.0.1:8787/ upgrade=websocket\n</VirtualHost>\n");
        var r = Check(ProxyConfig.Load(path), "loadbalancer.timeout");
        Assert.Equal(CheckStatus.Fail, r.Status);
        Assert.Contains($"ProxyTimeout 20s (written '20d': Apache reads the leading whole seconds) ({path}:2)", r.Found);
        Assert.Contains("ProxyTimeout 1728000", r.Fix);
    }

    [Fact]
    public void ANginxTimeNginxRefusesNamesTheFileAndLine()
    {
        var path = _dir.Write("nginx.conf", "server {\n    location / {\n        proxy_pass http://10.0.0.1:8787;\n        proxy_read_timeout 1.5h;\n    }\n}\n");
        var e = Assert.Throws<WbException>(() => ProxyConfig.Load(path));
        Assert.Equal("LoadBalancerConfigSyntax", e.ErrorId);
        Assert.Contains($"{path}:4: proxy_read_timeout \"1.5h\" is not an nginx time", e.Message);
    }

    /// <summary>An nginx route to the two nodes, sticky, with websockets and timeouts, and the header lines given.</summary>
    private ProxyConfig NginxWith(string headers) => ProxyConfig.Load(_dir.Write("headers.conf", $$"""
        upstream wb { ip_hash; server 10.0.0.1:8787; server 10.0.0.2:8787; }
        server {
            location / {
                proxy_pass http://wb;
                proxy_http_version 1.1;
                proxy_set_header Upgrade $http_upgrade;
                proxy_set_header Connection "upgrade";
                proxy_read_timeout 20d;
        {{headers}}
            }
        }
        """));

    [Theory]
    [InlineData("proxy_set_header X-RStudio-Request $scheme://$host:$server_port$request_uri;", CheckStatus.Pass, "the client's scheme, host, port, path")]
    [InlineData("proxy_set_header X-RStudio-Request $scheme://$http_host$request_uri;", CheckStatus.Pass, "the client's scheme, host, port, path")]
    [InlineData("proxy_set_header X-RStudio-Request $scheme://$host$request_uri;", CheckStatus.Pass, "path (the scheme's default port)")]
    [InlineData("proxy_set_header X-RStudio-Request https://workbench.lab.internal$request_uri;", CheckStatus.Pass, "the client's scheme, host, path")]
    [InlineData("proxy_set_header X-RStudio-Request https://workbench.lab.internal;", CheckStatus.Warn, "no path")]
    [InlineData("proxy_set_header X-RStudio-Request $host$request_uri;", CheckStatus.Fail, "not a URL")]
    [InlineData("proxy_set_header X-RStudio-Request $scheme://$request_uri;", CheckStatus.Fail, "no host")]
    [InlineData("proxy_set_header X-RStudio-Request $remote_addr://$host$request_uri;", CheckStatus.Fail, "no scheme")]
    // Workbench reads X-RStudio-Request first and then nothing else: a wrong X-Forwarded-* beside it does not matter.
    [InlineData("proxy_set_header X-RStudio-Request $scheme://$host:$server_port$request_uri;\n proxy_set_header Host wb;", CheckStatus.Pass, "X-RStudio-Request")]
    [InlineData("proxy_set_header Forwarded \"host=$host:$server_port;proto=$scheme;\";", CheckStatus.Pass, "host and scheme")]
    [InlineData("proxy_set_header Forwarded \"for=$remote_addr\";", CheckStatus.Fail, "no host= and proto=")]
    [InlineData("proxy_set_header Forwarded \"host=$host\";", CheckStatus.Fail, "no proto=")]
    [InlineData("proxy_set_header X-Forwarded-Host $host;\n proxy_set_header X-Forwarded-Proto $scheme;", CheckStatus.Pass, "X-Forwarded-Proto $scheme")]
    // nginx sends no header set to an empty value.
    [InlineData("proxy_set_header X-RStudio-Request \"\";\n proxy_set_header Host $host;", CheckStatus.Fail, "neither X-RStudio-Request nor X-Forwarded-Proto")]
    public void TheClientsUrlIsJudgedFromTheHeaderWorkbenchReads(string headers, CheckStatus status, string found)
    {
        var r = Check(NginxWith(headers), "loadbalancer.forwarded-headers");
        Assert.True(r.Status == status, r.ToString());
        Assert.Contains(found, r.Found);
        if (status != CheckStatus.Pass) Assert.Contains("proxy_set_header X-RStudio-Request $scheme://$host:$server_port$request_uri;", r.Fix);
    }

    [Fact]
    public void ApacheAndHAProxyXRStudioRequestSatisfyTheForwardedHeadersCheck()
    {
        var apache = _dir.Write("expr.conf", """
            <VirtualHost *:80>
                ProxyAddHeaders Off
                RequestHeader set X-RStudio-Request "expr=%{REQUEST_SCHEME}://%{HTTP_HOST}%{REQUEST_URI}"
                ProxyPass / http://10.0.0.1:8787/ upgrade=websocket
            </VirtualHost>
            """);
        var r = Check(ProxyConfig.Load(apache), "loadbalancer.forwarded-headers");
        Assert.True(r.Status == CheckStatus.Pass, r.ToString());
        Assert.Contains("the client's scheme, host, port, path", r.Found);

        var haproxy = _dir.Write("haproxy.cfg", """
            defaults
                mode http
            frontend fe
                bind :80
                http-request set-header X-RStudio-Request %[ssl_fc,iif(https,http)]://%[req.hdr(host)]%[pathq]
                default_backend be
            backend be
                balance source
                server n1 10.0.0.1:8787
                server n2 10.0.0.2:8787
            """);
        r = Check(ProxyConfig.Load(haproxy), "loadbalancer.forwarded-headers");
        Assert.True(r.Status == CheckStatus.Pass, r.ToString());
        Assert.Contains("http-request set-header X-RStudio-Request", r.Found);
    }

    [Fact]
    public void ApacheVariablesFromRewriteRulesCountOnlyWhenTheEngineRunsThem()
    {
        var path = _dir.Write("off.conf", """
            <VirtualHost *:80>
                RewriteRule . - [E=req_scheme:%{REQUEST_SCHEME}]
                RewriteRule . - [E=http_host:%{HTTP_HOST}]
                RewriteRule . - [E=req_uri:%{REQUEST_URI}]
                RequestHeader set X-RStudio-Request "%{req_scheme}e://%{http_host}e%{req_uri}e"
                ProxyPass / http://10.0.0.1:8787/ upgrade=websocket
            </VirtualHost>
            """);
        var r = Check(ProxyConfig.Load(path), "loadbalancer.forwarded-headers");
        Assert.Equal(CheckStatus.Fail, r.Status);
        Assert.Contains("RewriteEngine is not On in this context", r.Found);
    }

    [Fact]
    public void StandbyMembersOfApacheAreTheHigherLbsetsAndTheHotOnes()
    {
        var path = _dir.Write("lbset.conf", """
            <VirtualHost *:80>
                <Proxy balancer://wb>
                    BalancerMember http://10.0.0.1:8787 lbset=0 upgrade=websocket
                    BalancerMember http://10.0.0.2:8787 lbset=1 upgrade=websocket
                    BalancerMember http://10.0.0.3:8787 status=D
                </Proxy>
                ProxyPass / balancer://wb/
            </VirtualHost>
            """);
        var route = Assert.Single(ProxyConfig.Load(path).Routes);
        Assert.Equal([("10.0.0.1:8787", null), ("10.0.0.2:8787", "lbset=1")], route.Servers.Select(s => (s.Address, s.Standby)));
        Assert.True(route.Sticky.Ok, route.Sticky.Found);
        Assert.Equal(CheckStatus.Warn, Check(ProxyConfig.Load(path), "loadbalancer.distribution").Status);
    }

    [Fact]
    public void AnApacheSiteThatProxiesThroughRewriteRulesAloneHasThemAsItsRoutes()
    {
        var path = _dir.Write("rewrite-only.conf", """
            <VirtualHost *:80>
              RewriteEngine on
              RequestHeader set X-RStudio-Request "expr=%{REQUEST_SCHEME}://%{HTTP_HOST}%{REQUEST_URI}"
              RewriteCond %{HTTP:Upgrade} =websocket
              RewriteRule /(.*)     ws://10.0.0.1:8787/$1  [P,L]
              RewriteCond %{HTTP:Upgrade} !=websocket
              RewriteRule /(.*)     http://10.0.0.1:8787/$1 [P,L]
            </VirtualHost>
            """);
        var route = Assert.Single(ProxyConfig.Load(path).Routes);
        Assert.Equal(new SourceLocation(path, 7), route.At);
        Assert.Equal(["10.0.0.1:8787"], route.Servers.Select(s => s.Address));
        Assert.All(LoadBalancerChecks.FromFile(CheckCatalog.All.Where(c => c.Scope == CheckScope.LoadBalancer), ProxyConfig.Load(path),
            ClusterNodes.Of(["10.0.0.1:8787"]), Machine.Local), r => Assert.True(r.Status == CheckStatus.Pass, r.ToString()));
    }
}

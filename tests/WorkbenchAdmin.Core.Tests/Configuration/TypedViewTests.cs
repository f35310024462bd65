using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Configuration;

public class TypedViewTests
{
    [Fact]
    public void MissingFilesGiveTheDocumentedDefaults()
    {
        using var dir = new TempDirectory();
        var root = new ConfigRoot(dir.Path);
        var rserver = RServerConfig.Load(root);
        Assert.False(rserver.FilePresent);
        Assert.Null(rserver.LoadBalancingEnabled);
        Assert.Equal(8787, rserver.WwwPort);
        Assert.Equal("0.0.0.0", rserver.WwwAddress);
        Assert.Equal("http", rserver.Protocol);

        var launcher = LauncherConfig.Load(root);
        Assert.Equal("localhost", launcher.Address);
        Assert.Equal(5559, launcher.Port);

        var db = DatabaseConfig.Load(root);
        Assert.Equal("sqlite", db.Provider);
        Assert.Equal(("localhost", 5432, "rstudio", "postgres"), (db.Host, db.Port, db.Database, db.Username));
        Assert.Equal(10, db.ConnectionTimeoutSeconds);
        Assert.Null(db.Password);

        var lb = LoadBalancerConfig.Load(root);
        Assert.False(lb.FilePresent);
        Assert.Equal("sessions", lb.Method);
        Assert.Null(lb.LegacyCustomScriptPath);
        Assert.Equal("/usr/lib/rstudio-server/bin/rserver-balancer", ModuleSettings.Load(root).Effective(lb).ScriptPath);
    }

    [Fact]
    public void RServerReadsTheGuideSettings()
    {
        var doc = ConfigDocument.Parse(
            "server-shared-storage-path=/nfs/workbench/shared-storage\nload-balancing-enabled=1\nssl-enabled=1\nlauncher-sessions-enabled=1\n", "rserver.conf");
        var rs = RServerConfig.From(doc);
        Assert.True(rs.LoadBalancingEnabled);
        Assert.Equal("/nfs/workbench/shared-storage", rs.ServerSharedStoragePath);
        Assert.Equal(443, rs.WwwPort); // ssl-enabled changes the default port
        Assert.Equal("https", rs.Protocol);
        Assert.True(rs.LauncherSessionsEnabled);
    }

    [Theory]
    [InlineData("load-balancing-enabled=maybe", "load-balancing-enabled: must be 1 or 0")]
    [InlineData("www-port=http", "www-port: must be a whole number from 1 to 65535")]
    [InlineData("www-port=70000", "www-port: must be a whole number")]
    public void BadValuesNameTheFileAndLine(string line, string problem)
    {
        var doc = ConfigDocument.Parse("# first\n" + line + "\n", "/cfg/rserver.conf");
        var e = Assert.Throws<ConfigFormatException>(() => RServerConfig.From(doc));
        Assert.Equal(2, e.LineNumber);
        Assert.Contains(problem, e.Message);
        Assert.StartsWith("/cfg/rserver.conf:2:", e.Message);
    }

    [Fact]
    public void LauncherReadsItsServerSection()
    {
        var doc = ConfigDocument.Parse("[server]\naddress=0.0.0.0\nport=5560\nenable-ssl=0\nserver-user=rstudio-server\nadmin-group=rstudio-server\n\n[cluster]\nname=Local\ntype=Local\n", "launcher.conf");
        var l = LauncherConfig.From(doc);
        Assert.Equal(("0.0.0.0", 5560, false, "rstudio-server"), (l.Address, l.Port, l.EnableSsl, l.AdminGroup));
    }

    [Fact]
    public void DatabaseReadsDiscreteKeysAndBothTimeoutSpellings()
    {
        var doc = ConfigDocument.Parse("provider=postgresql\nhost=db.example.com\nport=5433\ndatabase=wb\nusername=rstudio\npassword=s3cret\nconnnection-timeout-seconds=25\npool-size=0\n", "/etc/rstudio/database.conf");
        var db = DatabaseConfig.From(doc, doc.FilePath);
        Assert.True(db.IsPostgres);
        Assert.Equal(("db.example.com", 5433, "wb", "rstudio"), (db.Host, db.Port, db.Database, db.Username));
        Assert.Equal("s3cret", db.Password!.Reveal());
        Assert.Equal("********", db.Password.ToString());
        Assert.Equal(25, db.ConnectionTimeoutSeconds);
        Assert.Equal(DatabaseConfig.LegacyTimeoutKey, db.ConnectionTimeoutKey);

        var both = ConfigDocument.Parse("connection-timeout-seconds=7\nconnnection-timeout-seconds=25\n", "d");
        Assert.Equal(7, DatabaseConfig.From(both, "d").ConnectionTimeoutSeconds);
    }

    [Theory]
    [InlineData(0, 1, 4)]
    [InlineData(0, 5, 5)]
    [InlineData(0, 64, 6)]
    [InlineData(12, 64, 12)]
    public void PoolSizeZeroIsAutomatic(int configured, int cpus, int expected)
    {
        var db = DatabaseConfig.From(ConfigDocument.Parse($"pool-size={configured}\n", "d"), "d");
        Assert.Equal(expected, db.EffectivePoolSize(cpus));
    }

    [Fact]
    public void ConnectionUriWinsOverDiscreteKeysButPasswordKeyWinsOverTheUris()
    {
        var doc = ConfigDocument.Parse(
            "provider=postgresql\nhost=ignored\nconnection-uri=postgresql://wb%40corp:uri-pass@pg.example.com:6543/workbench?sslmode=verify-full&sslcert=/etc/ssl/c.crt&sslkey=/etc/ssl/c.key&sslrootcert=/etc/ssl/ca.crt\n", "d");
        var db = DatabaseConfig.From(doc, "d");
        Assert.Equal(("pg.example.com", 6543, "workbench", "wb@corp"), (db.Host, db.Port, db.Database, db.Username));
        Assert.Equal("uri-pass", db.Password!.Reveal());
        Assert.Equal("connection-uri", db.PasswordSource);
        Assert.Equal("verify-full", db.ConnectionUri!.SslMode);
        Assert.Equal("/etc/ssl/ca.crt", db.ConnectionUri.Parameters["sslrootcert"]);

        var withPassword = ConfigDocument.Parse("connection-uri=postgres://u:uri-pass@h/db\npassword=key-pass\n", "d");
        var db2 = DatabaseConfig.From(withPassword, "d");
        Assert.Equal("key-pass", db2.Password!.Reveal());
        Assert.Equal("password", db2.PasswordSource);
        Assert.Equal(5432, db2.Port);
    }

    [Theory]
    [InlineData("postgresql://[::1]:5433/db", "::1", 5433)]
    [InlineData("postgres://host", "host", null)]
    [InlineData("postgresql://user@host:1/db", "host", 1)]
    public void ConnectionUriHostForms(string uri, string host, int? port)
    {
        var parsed = PostgresConnectionUri.Parse(uri);
        Assert.Equal(host, parsed.Host);
        Assert.Equal(port, parsed.Port);
    }

    [Fact]
    public void BadConnectionUriNamesTheLineWithoutThePassword()
    {
        var doc = ConfigDocument.Parse("provider=postgresql\nconnection-uri=postgresql://u:topsecret@h:99999/db\n", "/etc/rstudio/database.conf");
        var e = Assert.Throws<ConfigFormatException>(() => DatabaseConfig.From(doc, doc.FilePath));
        Assert.Equal(2, e.LineNumber);
        Assert.Equal((2, 16, "connection-uri"), (e.LineNumber, e.Column, e.Key));
        Assert.EndsWith(":2:16: connection-uri: has a port that is not a number from 1 to 65535", e.Message);
        Assert.DoesNotContain("topsecret", e.Message);
        Assert.Throws<ConfigFormatException>(() => DatabaseConfig.From(ConfigDocument.Parse("connection-uri=mysql://h/db\n", "d"), "d"));
        Assert.Throws<ConfigFormatException>(() => DatabaseConfig.From(ConfigDocument.Parse("provider=oracle\n", "d"), "d"));
    }

    [Theory]
    [InlineData("postgresql://wb:pa?ss@h/db", "pa?ss", "postgresql://wb:********@h/db", "postgresql://wb@h/db")]
    [InlineData("postgresql://wb:p@ss@h:5433/db?sslmode=require", "p@ss", "postgresql://wb:********@h:5433/db?sslmode=require", "postgresql://wb@h:5433/db?sslmode=require")]
    [InlineData("postgres://wb@h/db?sslmode=require&password=x&application_name=a", "x",
                "postgres://wb@h/db?sslmode=require&password=********&application_name=a", "postgres://wb@h/db?sslmode=require&application_name=a")]
    [InlineData("postgresql://wb:u@h/db?password=x", "x", "postgresql://wb:********@h/db?password=********", "postgresql://wb@h/db")]
    [InlineData("postgresql://h:5432/db?sslmode=disable", null, "postgresql://h:5432/db?sslmode=disable", "postgresql://h:5432/db?sslmode=disable")]
    [InlineData("postgresql://wb@h/db?pass%77ord=secret", "secret", "postgresql://wb@h/db?password=********", "postgresql://wb@h/db")]
    public void AConnectionUriPasswordIsFoundMaskedAndTakenOutWholeWhereverLibpqTakesIt(string uri, string? password, string masked, string without)
    {
        // libpq reads user info up to an '@' before any '/' (so a '?' may be in it), and a password= parameter over it.
        var parsed = PostgresConnectionUri.Parse(uri);
        Assert.Equal(password, parsed.Password?.Reveal());
        Assert.False(parsed.Parameters.ContainsKey("password"));
        Assert.Equal(masked, PostgresConnectionUri.MaskPassword(uri));
        Assert.Equal(without, PostgresConnectionUri.WithoutPassword(uri));
        Assert.Equal(password is not null, PostgresConnectionUri.HasPassword(uri));
        Assert.Null(PostgresConnectionUri.Parse(without).Password);
    }

    [Fact]
    public void LoadBalancerReadsGlobalAndConfigSectionAndLegacyNodes()
    {
        var modern = LoadBalancerConfig.From(ConfigDocument.Parse("balancer = user-hash\nwww-host-name = node1.example.com:8787\ndelete-node-on-exit = 1\n", "/lb", ConfigDialect.LoadBalancer));
        Assert.Equal(("user-hash", "node1.example.com:8787", true, false), (modern.Method, modern.WwwHostName, modern.DeleteNodeOnExit, modern.UsesConfigSection));
        Assert.Equal("/lb:1", modern.MethodSource);

        var legacy = LoadBalancerConfig.From(ConfigDocument.Parse("[config]\nbalancer=system-load\n[nodes]\nn1\nn2\n", "/lb", ConfigDialect.LoadBalancer));
        Assert.Equal("system-load", legacy.Method);
        Assert.True(legacy.UsesConfigSection);
        Assert.Equal(["n1", "n2"], legacy.LegacyNodes);
    }

    [Fact]
    public void UnknownBalancerIsAnErrorOnItsLine()
    {
        var doc = ConfigDocument.Parse("# x\nbalancer=round-robin\n", "/etc/rstudio/load-balancer", ConfigDialect.LoadBalancer);
        var e = Assert.Throws<ConfigFormatException>(() => LoadBalancerConfig.From(doc));
        Assert.Equal(2, e.LineNumber);
        Assert.Contains("sessions, system-load, user-hash, custom", e.Message);
    }

    [Fact]
    public void SecureCookieKeyIsFoundInOrderAndOnlyItsHashIsExposed()
    {
        using var dir = new TempDirectory();
        var state = Directory.CreateDirectory(Path.Combine(dir.Path, "state")).FullName;
        var etc = Directory.CreateDirectory(Path.Combine(dir.Path, "etc")).FullName;
        var root = new ConfigRoot(etc, state);

        var none = SecureCookieKey.Locate(root, new RServerConfig());
        Assert.False(none.Exists);
        Assert.Equal(2, none.Searched.Count);

        File.WriteAllText(Path.Combine(state, "secure-cookie-key"), "state-key\n");
        Assert.Equal("state directory", SecureCookieKey.Locate(root, new RServerConfig()).Source);

        File.WriteAllText(Path.Combine(etc, "secure-cookie-key"), "root-key\n");
        var atRoot = SecureCookieKey.Locate(root, new RServerConfig());
        Assert.Equal("config root", atRoot.Source);
        Assert.Equal(SecureCookieKey.Hash("root-key"u8), atRoot.Hash);
        Assert.Equal(64, atRoot.Hash!.Length);

        var custom = Path.Combine(dir.Path, "custom-key");
        File.WriteAllText(custom, "  custom-key  \n");
        File.SetUnixFileMode(custom, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var found = SecureCookieKey.Locate(root, new RServerConfig { SecureCookieKeyFile = custom });
        Assert.Equal(("secure-cookie-key-file", custom), (found.Source, found.Path));
        Assert.Equal(SecureCookieKey.Hash("custom-key"u8), found.Hash); // white space around the key does not count
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, found.Mode);
        Assert.DoesNotContain("custom-key", found.ToString().Replace(custom, ""));
    }

    [Fact]
    public void EmptySecureCookieKeyIsAnError()
    {
        using var dir = new TempDirectory();
        dir.Write("secure-cookie-key", "\n");
        var e = Assert.Throws<WbException>(() => SecureCookieKey.Locate(new ConfigRoot(dir.Path), new RServerConfig()));
        Assert.Equal("SecureCookieKeyEmpty", e.ErrorId);
    }

    [Fact]
    public void ConfigRootResolutionOrder()
    {
        var env = new Dictionary<string, string?>();
        string? Env(string name) => env.GetValueOrDefault(name);
        Assert.Equal("/etc/rstudio", ConfigRoot.Resolve(null, Env).Path);
        Assert.Equal("/var/lib/rstudio-server", ConfigRoot.Resolve(null, Env).StateDirectory);
        env[ConfigRoot.WorkbenchEnvironmentVariable] = "/opt/rs";
        Assert.Equal("/opt/rs", ConfigRoot.Resolve(null, Env).Path);
        Assert.Null(ConfigRoot.Resolve(null, Env).StateDirectory);
        env[ConfigRoot.EnvironmentVariable] = "/tmp/copy";
        Assert.Equal("/tmp/copy", ConfigRoot.Resolve(null, Env).Path);
        Assert.Equal("/srv/explicit", ConfigRoot.Resolve("/srv/explicit", Env).Path);
    }
}

using System.Text;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Store;

public class DatabaseTargetTests
{
    private static DatabaseTarget FromConf(TempDirectory dir, string conf)
    {
        dir.Write("database.conf", conf);
        return DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = dir.Path });
    }

    [Fact]
    public void DiscreteKeysBecomeAConnectionStringWithApplicationNameAndAPlainTextWarning()
    {
        using var dir = new TempDirectory();
        var t = FromConf(dir, "provider=postgresql\nhost=pg.example.com\nport=5433\ndatabase=wb\nusername=rs\npassword=pw\nconnnection-timeout-seconds=7\npool-size=12\n");
        var b = new Npgsql.NpgsqlConnectionStringBuilder(t.ConnectionString);
        Assert.Equal(("pg.example.com", 5433, "wb", "rs", "pw", 7, 12, "WorkbenchAdmin"), (b.Host, b.Port, b.Database, b.Username, b.Password, b.Timeout, b.MaxPoolSize, b.ApplicationName));
        Assert.Equal("PostgreSQL at pg.example.com:5433, database 'wb', user 'rs'", t.Description);
        Assert.Contains(t.Warnings, w => w.Contains("plain text") && w.Contains("Protect-WbDatabasePassword"));
        Assert.DoesNotContain("pw", t.Description);
    }

    [Fact]
    public void ConnectionUriCarriesSslCertificateAuthentication()
    {
        using var dir = new TempDirectory();
        var t = FromConf(dir, "provider=postgresql\nconnection-uri=postgresql://rstudio@db.internal:5432/rstudio?sslmode=verify-full&sslcert=/etc/ssl/wb.crt&sslkey=/etc/ssl/wb.key&sslrootcert=/etc/ssl/ca.crt\n");
        var b = new Npgsql.NpgsqlConnectionStringBuilder(t.ConnectionString);
        Assert.Equal((Npgsql.SslMode.VerifyFull, "/etc/ssl/wb.crt", "/etc/ssl/wb.key", "/etc/ssl/ca.crt"), (b.SslMode, b.SslCertificate, b.SslKey, b.RootCertificate));
        Assert.Equal(("db.internal", "rstudio"), (b.Host, b.Username));
        Assert.Empty(t.Warnings);
    }

    [Fact]
    public void SqliteIsRefusedWithTheReason()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<WbException>(() => FromConf(dir, "provider=sqlite\ndirectory=/var/lib/rstudio-server\n"));
        Assert.Equal("SqliteNotSupported", e.ErrorId);
        Assert.Contains("needs PostgreSQL", e.Message);
        Assert.Equal("DatabaseConfigMissing", Assert.Throws<WbException>(() => DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = dir.File("none") })).ErrorId);
    }

    [Fact]
    public void CredentialOverridesUserAndPassword()
    {
        var t = DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = "Host=h;Database=d;Username=a;Password=b", UserName = "admin", Password = new SecretValue("s3cret") });
        var b = new Npgsql.NpgsqlConnectionStringBuilder(t.ConnectionString);
        Assert.Equal(("admin", "s3cret"), (b.Username, b.Password));
        Assert.Equal("InvalidConnectionString", Assert.Throws<WbException>(() => DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = "Nonsense Key=1" })).ErrorId);
    }

    [Fact]
    public void EncryptedPasswordsAreDecryptedWithTheSecureCookieKey()
    {
        using var dir = new TempDirectory();
        dir.Write("secure-cookie-key", "a-cluster-key\n");
        var protectedValue = PasswordProtector.Protect("db-pass", Encoding.UTF8.GetBytes("a-cluster-key"));
        Assert.StartsWith(PasswordProtector.Prefix, protectedValue);
        var t = FromConf(dir, $"provider=postgresql\npassword={protectedValue}\n");
        Assert.Equal("db-pass", new Npgsql.NpgsqlConnectionStringBuilder(t.ConnectionString).Password);
        Assert.Empty(t.Warnings);

        dir.Write("secure-cookie-key", "another-key\n");
        var e = Assert.Throws<WbException>(() => DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = dir.Path }));
        Assert.Equal(("PasswordDecryptFailed", WbErrorCategory.SecurityError), (e.ErrorId, e.Category));
        Assert.Contains("different secure-cookie-key", e.Message);
        Assert.Contains("Protect-WbDatabasePassword", e.Message);
    }

    [Fact]
    public void ProtectionIsAuthenticatedAndRandomised()
    {
        var key = "k"u8.ToArray();
        var a = PasswordProtector.Protect("same", key);
        Assert.NotEqual(a, PasswordProtector.Protect("same", key));
        Assert.Equal("same", PasswordProtector.Unprotect(a, key, "x"));
        var tampered = a[..^4] + (a[^4] == 'A' ? "B" : "A") + a[^3..];
        Assert.Equal("PasswordDecryptFailed", Assert.Throws<WbException>(() => PasswordProtector.Unprotect(tampered, key, "x")).ErrorId);
        Assert.Equal("PasswordDecryptFailed", Assert.Throws<WbException>(() => PasswordProtector.Unprotect(PasswordProtector.Prefix + "!!", key, "x")).ErrorId);
        Assert.Equal("unicode ☃ pässword", PasswordProtector.Unprotect(PasswordProtector.Protect("unicode ☃ pässword", key), "  k\n"u8, "x"));
    }
}

[Collection(PostgresCollection.Name)]
public class ConnectionFailureTests(PostgresFixture pg)
{
    [Fact]
    public void AWrongPasswordIsAnAuthenticationErrorThatNeverShowsThePassword()
    {
        var cs = pg.Server.ConnectionString().Replace(pg.Server.Password, "wrong-password-xyz");
        var store = new ClusterStore(DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = cs }));
        var e = Assert.Throws<WbException>(() => store.GetNodes(ClusterStore.DefaultOfflineAfter));
        Assert.Equal(("DatabaseAuthenticationFailed", WbErrorCategory.AuthenticationError), (e.ErrorId, e.Category));
        Assert.Contains($"127.0.0.1:{pg.Server.Port}", e.Message);
        Assert.Contains("database 'postgres'", e.Message);
        Assert.DoesNotContain("wrong-password-xyz", e.ToString());
    }

    [Fact]
    public void AMissingDatabaseIsAConnectionErrorSayingSo()
    {
        var store = new ClusterStore(DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = pg.Server.ConnectionString("no_such_db") }));
        var e = Assert.Throws<WbException>(() => store.GetNodes(ClusterStore.DefaultOfflineAfter));
        Assert.Equal(("DatabaseNotFound", WbErrorCategory.ConnectionError), (e.ErrorId, e.Category));
        Assert.Contains("'no_such_db'", e.Message);
    }

    [Fact]
    public void AnUnreachableServerIsAConnectionErrorNamingHostAndPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        var store = new ClusterStore(DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = $"Host=127.0.0.1;Port={port};Database=rstudio;Username=u;Password=p;Timeout=3" }));
        var e = Assert.Throws<WbException>(() => store.GetNodes(ClusterStore.DefaultOfflineAfter));
        Assert.Equal(("DatabaseUnreachable", WbErrorCategory.ConnectionError), (e.ErrorId, e.Category));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
    }
}

[Collection(PostgresCollection.Name)]
public class ForeignPasswordTests(PostgresFixture pg)
{
    [Fact]
    public void APasswordEncryptedByAnotherToolGivesALoginErrorThatSaysWhatToDo()
    {
        using var dir = new TempDirectory();
        // 32 bytes of ciphertext in base64, as an encrypt-password tool would write.
        var foreign = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray());
        dir.Write("database.conf", $"provider=postgresql\nhost=127.0.0.1\nport={pg.Server.Port}\nusername=postgres\ndatabase=postgres\npassword={foreign}\n");
        var target = DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = dir.Path });
        Assert.DoesNotContain(target.Warnings, w => w.Contains("plain text"));
        var e = Assert.Throws<WbException>(() => new ClusterStore(target).GetNodes(ClusterStore.DefaultOfflineAfter));
        Assert.Equal(WbErrorCategory.AuthenticationError, e.Category);
        Assert.Contains("looks encrypted", e.Message);
        Assert.Contains("-Credential", e.Message);
        Assert.DoesNotContain(foreign, e.Message);
    }

    [Fact]
    public void AnUnknownVersionOfOurFormatIsRefusedClearly()
    {
        using var dir = new TempDirectory();
        dir.Write("database.conf", "provider=postgresql\npassword=wbenc:v9:AAAA\n");
        var e = Assert.Throws<WbException>(() => DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = dir.Path }));
        Assert.Equal("PasswordFormatUnknown", e.ErrorId);
        Assert.Contains("Update the module", e.Message);
    }

    [Theory]
    [InlineData("hunter2", false)]
    [InlineData("Passw0rdPassw0rdPassw0rd", false)]
    [InlineData("correct horse battery staple", false)]
    public void OrdinaryPasswordsDoNotLookEncrypted(string password, bool expected) =>
        Assert.Equal(expected, PasswordProtector.LooksLikeForeignCiphertext(password));
}

/// <summary>Values Workbench accepts but the connection cannot use, and key files that cannot be read: each a stable error.</summary>
public class DatabaseConfigLimitTests
{
    [Theory]
    [InlineData("connection-timeout-seconds=3600", 3)]
    [InlineData("connnection-timeout-seconds=1025", 3)]
    [InlineData("connection-timeout-seconds=-1", 3)]
    public void ATimeoutBeyondWhatTheDriverTakesIsAnErrorNamingFileLineAndKey(string line, int number)
    {
        using var dir = new TempDirectory();
        var path = dir.Write("database.conf", $"provider=postgresql\nhost=pg\n{line}\n");
        var e = Assert.Throws<ConfigFormatException>(() => DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = dir.Path }));
        Assert.Equal(("ConfigSyntaxError", WbErrorCategory.ParserError), (e.ErrorId, e.Category));
        Assert.StartsWith($"{path}:{number}:", e.Message);
        Assert.Contains(line[..line.IndexOf('=')], e.Message);
        Assert.Contains("1024", e.Message);
    }

    [Fact]
    public void TheLargestTimeoutTheDriverTakesIsUsed()
    {
        using var dir = new TempDirectory();
        dir.Write("database.conf", "provider=postgresql\nhost=pg\nconnection-timeout-seconds=1024\n");
        var t = DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = dir.Path });
        Assert.Equal(1024, new Npgsql.NpgsqlConnectionStringBuilder(t.ConnectionString).Timeout);
    }

    /// <summary>Files every user, root included, fails to read: EIO from /proc/self/mem; EACCES from a write-only sysfs attribute.</summary>
    public static TheoryData<string, string, WbErrorCategory> Unreadable()
    {
        var data = new TheoryData<string, string, WbErrorCategory> { { "/proc/self/mem", "SecureCookieKeyReadFailed", WbErrorCategory.ReadError } };
        var writeOnly = Directory.Exists("/sys/bus") ? Directory.GetDirectories("/sys/bus").Select(d => Path.Combine(d, "uevent")).FirstOrDefault(File.Exists) : null;
        if (writeOnly is not null) data.Add(writeOnly, "SecureCookieKeyReadDenied", WbErrorCategory.PermissionDenied);
        return data;
    }

    [Theory]
    [MemberData(nameof(Unreadable))]
    public void AKeyFileThatCannotBeReadIsAStableError(string keyFile, string errorId, WbErrorCategory category)
    {
        using var dir = new TempDirectory();
        dir.Write("rserver.conf", $"secure-cookie-key-file={keyFile}\n");
        dir.Write("database.conf", "provider=postgresql\nhost=pg\npassword=" + PasswordProtector.Protect("pw", "k"u8) + "\n");
        var root = new ConfigRoot(dir.Path);
        foreach (var action in new Action[]
        {
            () => SecureCookieKey.Locate(root, RServerConfig.Load(root)),
            () => DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = dir.Path }),
            () => PasswordOperations.ProtectPassword(new ProtectPasswordRequest { ConfigRoot = dir.Path, Password = new SecretValue("pw") }, new RecordingHost()),
        })
        {
            var e = Assert.IsType<WbException>(Record.Exception(action));
            Assert.Equal((errorId, category), (e.ErrorId, e.Category));
            Assert.Contains(keyFile, e.Message);
        }
    }
}

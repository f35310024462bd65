using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Commands.Config;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Logging;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Core.Tests.Store;

/// <summary>
/// A known database password goes through every operation that sees one; it must come out of none of them:
/// not in an object, an error, a warning, a verbose or debug line (the core's and Npgsql's log lines
/// included), a ToString, an exception message or an error's target.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SecretStreamsTests(PostgresFixture pg) : IDisposable
{
    private const string Marker = "s3cret-PW-marker";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Root(string name, string rserver, params (string File, string Content)[] files)
    {
        var root = Directory.CreateDirectory(Path.Combine(_dir.Path, name)).FullName;
        File.WriteAllText(Path.Combine(root, "rserver.conf"), rserver);
        File.WriteAllText(Path.Combine(root, "secure-cookie-key"), "the-cluster-key\n");
        foreach (var (file, content) in files) File.WriteAllText(Path.Combine(root, file), content);
        return root;
    }

    [Fact]
    public void TheDatabasePasswordReachesNoStreamToStringOrExceptionMessage()
    {
        var server = pg.Server;
        var uri = $"postgresql://postgres:{Marker}@{server.Host}:{server.Port}/postgres?sslmode=disable";
        var roots = new[]
        {
            // The password twice: the file cannot be read, and the error must not quote either line.
            Root("duplicate", "load-balancing-enabled=1\n", ("database.conf", $"provider=postgresql\npassword={Marker}\npassword={Marker}-2\n")),
            // The password in password= and in the URI: a login the server refuses.
            Root("refused", "load-balancing-enabled=1\n", ("database.conf", $"provider=postgresql\npassword={Marker}\nconnection-uri={uri}\n")),
            // Only in the URI, in a database config file of another name.
            Root("renamed", "database-config-file=db-prod.conf\n", ("db-prod.conf", $"provider=postgresql\nconnection-uri={uri}\n")),
        };

        var host = new RecordingHost();
        var thrown = new List<Exception>();
        var printed = new List<object?>();
        void Run(Action action)
        {
            using var _ = CommandLog.Attach(host);
            try { action(); }
            catch (Exception e) { thrown.Add(e); }
        }

        foreach (var root in roots)
        {
            Run(() => GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = root, File = ["*"] }, host));
            Run(() => GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = root }, host));
            Run(() => printed.Add(DatabaseConfig.Load(new ConfigRoot(root), RServerConfig.Load(new ConfigRoot(root)))));
            Run(() => printed.Add(DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = root })));
            Run(() => ClusterOperations.Initialize(new StoreRequest { ConfigRoot = root }, host));
            Run(() => printed.AddRange(ClusterVerifier.Verify(new VerifyRequest { ConfigRoot = root, Check = ["security.*", "database.*"], Machine = new TestMachine() }, host)));
            Run(() => PasswordOperations.ProtectPassword(new ProtectPasswordRequest { ConfigRoot = root, Password = new SecretValue(Marker) }, host));
            Run(() => PasswordOperations.ProtectPassword(new ProtectPasswordRequest { ConfigRoot = root, Password = new SecretValue(Marker), Apply = true }, host));
            // After -Apply: the encrypted password, still refused by the server.
            Run(() => ClusterOperations.Initialize(new StoreRequest { ConfigRoot = root }, host));
            Run(() => GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = root, File = ["*"] }, host));
        }

        // The same password given on the command line instead.
        var withPassword = $"Host={server.Host};Port={server.Port};Database=postgres;Username=postgres;Password={Marker}";
        Run(() => ClusterOperations.Initialize(new StoreRequest { ConnectionString = withPassword }, host));
        Run(() => ClusterOperations.Initialize(new StoreRequest { ConnectionString = server.ConnectionString(), CredentialUserName = "postgres", CredentialPassword = new SecretValue(Marker) }, host));
        Run(() => DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = withPassword + ";Nonsense Key=1" }));
        printed.Add(DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = withPassword }));
        printed.Add(new DatabaseRequest { ConnectionString = withPassword, UserName = "postgres", Password = new SecretValue(Marker) });
        printed.Add(new StoreRequest { ConnectionString = withPassword, CredentialPassword = new SecretValue(Marker) });
        printed.Add(new VerifyRequest { ConnectionString = withPassword });
        printed.Add(new ProtectPasswordRequest { Password = new SecretValue(Marker) });
        printed.Add(new SecretValue(Marker));
        printed.Add(PostgresConnectionUri.Parse(uri));
        printed.Add(PostgresConnectionUri.Parse($"postgresql://postgres@{server.Host}/postgres?password={Marker}"));

        // An edit of the database config that is declined still reports what it would change.
        var declined = new RecordingHost(confirm: false);
        var edit = new ConfigEditor(new ConfigRoot(roots[1])).Edit("database.conf",
            [new ConfigChange(null, "password", Marker), new ConfigChange(null, "connection-uri", uri)], declined.ShouldProcess);
        printed.Add(edit);
        printed.AddRange(edit.Changes);
        printed.AddRange(declined.ShouldProcessCalls.Select(c => c.Target + " " + c.Action));
        Run(() => PasswordProtector.Unprotect(PasswordProtector.Prefix + "AAAA", "k"u8, roots[1]));
        Run(() => DatabaseTarget.Resolve(new DatabaseRequest { ConfigRoot = Root("unknown-format", "", ("database.conf", $"provider=postgresql\npassword=wbenc:{Marker}\n")) }));

        // The run did what it had to: it read the files, failed each login, and wrote the encrypted password.
        var errors = host.Errors.Concat(thrown.OfType<WbException>()).ToList();
        Assert.Contains(errors, e => e.ErrorId == "DatabaseAuthenticationFailed");
        Assert.Contains(errors, e => e.ErrorId == "ConfigSyntaxError");
        Assert.Contains(host.ObjectsOf<ConfigEntry>(), e => e.Key == "password" && e.Value == SecretValue.Mask);
        Assert.Contains(host.Objects, o => o is string s && s.StartsWith(PasswordProtector.Prefix, StringComparison.Ordinal));

        var texts = new List<string>();
        void AddException(Exception? e)
        {
            for (; e is not null; e = e.InnerException)
            {
                texts.Add(e.Message);
                texts.Add(e.ToString());
                if (e is WbException wb) texts.Add(wb.Target?.ToString() ?? "");
            }
        }
        texts.AddRange(host.Objects.Select(o => o.ToString() ?? ""));
        texts.AddRange(host.Warnings);
        texts.AddRange(host.Verbose);
        texts.AddRange(host.Debug);
        texts.AddRange(host.ShouldProcessCalls.Select(c => c.Target + " " + c.Action));
        texts.AddRange(printed.Select(o => o?.ToString() ?? ""));
        foreach (var e in host.Errors) AddException(e);
        foreach (var e in thrown) AddException(e);
        Assert.All(texts, t => Assert.DoesNotContain(Marker, t));
        Assert.All(texts, t => Assert.DoesNotContain("wbenc:" + Marker[..3], t)); // not even the start of it
        Assert.Contains(errors, e => e.ErrorId == "PasswordFormatUnknown");
        // And the files on disk no longer hold it in plain text: -Apply moved the URI's password out too.
        foreach (var root in roots.Skip(1))
            foreach (var file in Directory.GetFiles(root))
                Assert.DoesNotContain(Marker, File.ReadAllText(file));
    }
}

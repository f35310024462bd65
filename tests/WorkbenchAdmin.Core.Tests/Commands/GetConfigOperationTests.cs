using WorkbenchAdmin.Core.Commands.Config;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Verification;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Commands;

public class GetConfigOperationTests
{
    private static TempDirectory GuideNode()
    {
        var dir = new TempDirectory();
        dir.Write("rserver.conf", "# Workbench\nserver-shared-storage-path=/nfs/workbench/shared-storage\nload-balancing-enabled=1\n");
        dir.Write("launcher.conf", "[server]\naddress=0.0.0.0\nport=5559\n\n[cluster]\nname=Local\ntype=Local\n");
        dir.Write("database.conf", "provider=postgresql\nhost=pg\npassword=hunter2\nconnection-uri=postgresql://wb:hunter2@pg/rstudio\n");
        dir.Write("secure-cookie-key", "never-shown\n");
        return dir;
    }

    [Fact]
    public void ListsEveryEntryOfTheKnownFilesInOrderWithSecretsMasked()
    {
        using var dir = GuideNode();
        var host = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path }, host);
        var entries = host.ObjectsOf<ConfigEntry>().ToList();
        Assert.Equal(["rserver.conf", "rserver.conf", "launcher.conf", "launcher.conf", "launcher.conf", "launcher.conf", "database.conf", "database.conf", "database.conf", "database.conf"],
                     entries.Select(e => e.File));
        var storage = entries[0];
        Assert.Equal(("server-shared-storage-path", "/nfs/workbench/shared-storage", 2, (string?)null), (storage.Key, storage.Value, storage.Line, storage.Section));
        Assert.Equal("server", entries.Single(e => e.Key == "address").Section);
        Assert.Equal("********", entries.Single(e => e.Key == "password").Value);
        Assert.Equal("postgresql://wb:********@pg/rstudio", entries.Single(e => e.Key == "connection-uri").Value);
        Assert.DoesNotContain(host.Objects, o => o.ToString()!.Contains("hunter2") || o.ToString()!.Contains("never-shown"));
        Assert.Empty(host.Errors);
        Assert.Contains(host.Verbose, v => v.EndsWith("load-balancer: not present"));
    }

    [Fact]
    public void FiltersByFileKeyWildcardAndSection()
    {
        using var dir = GuideNode();
        var host = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path, File = ["*.conf"], Key = ["*ADDRESS*", "port"], Section = "server" }, host);
        Assert.Equal(["address", "port"], host.ObjectsOf<ConfigEntry>().Select(e => e.Key));
    }

    [Fact]
    public void AMissingNamedFileIsANonTerminatingNotFoundAndOtherFilesStillList()
    {
        using var dir = GuideNode();
        var host = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path, File = ["load-balancer", "rserver.conf"] }, host);
        var error = Assert.Single(host.Errors);
        Assert.Equal(("ConfigFileNotFound", WbErrorCategory.ObjectNotFound), (error.ErrorId, error.Category));
        Assert.Equal(2, host.ObjectsOf<ConfigEntry>().Count());
    }

    [Fact]
    public void AMalformedFileIsAnErrorAndTheOthersStillList()
    {
        using var dir = GuideNode();
        dir.Write("launcher.conf", "[server\n");
        var host = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path }, host);
        var error = Assert.IsType<Core.Configuration.ConfigFormatException>(Assert.Single(host.Errors));
        Assert.Equal(1, error.LineNumber);
        Assert.Contains(host.ObjectsOf<ConfigEntry>(), e => e.File == "database.conf");
    }

    [Fact]
    public void TheSecureCookieKeyIsNeverListed()
    {
        using var dir = GuideNode();
        var host = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path, File = ["secure-cookie-key"] }, host);
        Assert.Empty(host.Objects);
        Assert.Equal("ConfigFileNotReadable", Assert.Single(host.Errors).ErrorId);
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path, File = ["*"] }, host);
        Assert.DoesNotContain(host.ObjectsOf<ConfigEntry>(), e => e.File == "secure-cookie-key");
    }

    private const string Marker = "s3cret-PW-marker";

    /// <summary>Everything a run wrote, as text: objects, errors (with their targets), warnings, verbose and debug lines.</summary>
    private static string Everything(RecordingHost host) => string.Join("\n",
        host.Objects.Select(o => o.ToString()).Concat(host.Errors.Select(e => $"{e.Message} {e.Target}"))
            .Concat(host.Warnings).Concat(host.Verbose).Concat(host.Debug));

    [Theory]
    [InlineData("db-prod.conf")]
    [InlineData("ABSOLUTE")]
    public void TheDatabaseConfigNamedByRServerConfIsMaskedWhateverItsName(string setting)
    {
        using var dir = GuideNode();
        var path = dir.Write("db-prod.conf", $"provider=postgresql\npassword={Marker}\nconnection-uri=postgresql://wb:{Marker}@pg/rstudio\n");
        dir.Write("rserver.conf", $"database-config-file={(setting == "ABSOLUTE" ? path : setting)}\n");
        var host = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path, File = ["db-prod.conf"] }, host);
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path, File = ["*"] }, host);
        var entries = host.ObjectsOf<ConfigEntry>().Where(e => e.File == "db-prod.conf").ToList();
        Assert.Equal(6, entries.Count);
        Assert.All(entries.Where(e => e.Key == "password"), e => Assert.Equal("********", e.Value));
        Assert.All(entries.Where(e => e.Key == "connection-uri"), e => Assert.Equal("postgresql://wb:********@pg/rstudio", e.Value));
        Assert.DoesNotContain(Marker, Everything(host));
    }

    [Theory]
    [InlineData("cookie-key-without-equals " + Marker)]
    [InlineData(Marker + "AAAA=")]
    public void TheConfiguredSecureCookieKeyFileIsNeverListedCompletedOrFingerprinted(string keyContent)
    {
        using var dir = GuideNode();
        var keyFile = dir.Write("cookie.key", keyContent + "\n");
        dir.Write("rserver.conf", $"load-balancing-enabled=1\nsecure-cookie-key-file={keyFile}\n");
        var root = new ConfigRoot(dir.Path);

        var listed = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path, File = ["*"] }, listed);
        Assert.DoesNotContain(listed.ObjectsOf<ConfigEntry>(), e => e.File == "cookie.key");
        Assert.DoesNotContain(Marker, Everything(listed));
        Assert.Contains(listed.ObjectsOf<ConfigEntry>(), e => e.File == "database.conf");

        var named = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path, File = ["cookie.key"] }, named);
        Assert.Empty(named.Objects);
        Assert.Equal("ConfigFileNotReadable", Assert.Single(named.Errors).ErrorId);
        Assert.DoesNotContain(Marker, Everything(named));

        Assert.DoesNotContain("cookie.key", ConfigFileNames.Complete(root, ""));
        Assert.DoesNotContain("cookie.key", ConfigFileNames.Complete(root, "c"));
        Assert.DoesNotContain("cookie.key", NodeFingerprint.HashConfigFiles(root).Keys);
    }

    [Fact]
    public void WhileRServerConfCannotBeReadOnlyTheKnownFilesAreListed()
    {
        // Which file is the secure-cookie-key is unknown then: an unknown file might be it.
        using var dir = GuideNode();
        dir.Write("rserver.conf", "secure-cookie-key-file=/anywhere/cookie.key\nthis line is broken\n");
        dir.Write("cookie.key", Marker + "AAAA=\n");
        var host = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path, File = ["*"] }, host);
        Assert.DoesNotContain(host.ObjectsOf<ConfigEntry>(), e => e.File == "cookie.key");
        Assert.Contains(host.ObjectsOf<ConfigEntry>(), e => e.File == "launcher.conf");
        Assert.Contains(host.Errors, e => e.ErrorId == "ConfigSyntaxError" && e.Message.Contains("rserver.conf:2:"));
        Assert.DoesNotContain(Marker, Everything(host));
        Assert.DoesNotContain("cookie.key", ConfigFileNames.Complete(new ConfigRoot(dir.Path), ""));
    }

    [Fact]
    public void OnlyFilesOfTheRootAreRead()
    {
        // A path could name a key file this root does not know of, such as the real node's.
        using var dir = GuideNode();
        using var elsewhere = new TempDirectory();
        var key = elsewhere.Write("secure-cookie-key", Marker + "AAAA=\n");
        var host = new RecordingHost();
        GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = dir.Path, File = [key, Path.GetRelativePath(dir.Path, key)] }, host);
        Assert.Empty(host.Objects);
        Assert.All(host.Errors, e => Assert.Equal(("ConfigFileNotReadable", WbErrorCategory.InvalidArgument), (e.ErrorId, e.Category)));
        Assert.Equal(2, host.Errors.Count);
        Assert.DoesNotContain(Marker, Everything(host));
    }
}

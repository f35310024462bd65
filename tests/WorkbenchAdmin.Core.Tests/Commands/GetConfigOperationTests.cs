using WorkbenchAdmin.Core.Commands.Config;
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
}
